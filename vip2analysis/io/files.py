"""Deterministic bytes on disk: reproducible zip archives, tree digests, folder comparison."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "FIXED_XML_TIME",
    "FIXED_ZIP_TIME",
    "compare_folders",
    "file_digests",
    "normalise_zip",
    "save_office",
    "sha256_file",
    "tree_digest",
]

FIXED_ZIP_TIME = (2010, 6, 30, 0, 0, 0)
"""The time stamp of every member of a zip archive we write (the end of VIP2)."""
FIXED_XML_TIME = "2010-06-30T00:00:00Z"
"""The created/modified time inside the XML of an XLSX workbook we write."""


def normalise_zip(data: bytes) -> bytes:
    """Rewrite an XLSX (zip) with fixed timestamps so that equal content gives equal bytes."""
    import re

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(src.namelist()):
            content = src.read(name)
            if name == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                    rb"\g<1>" + FIXED_XML_TIME.encode(),
                    content,
                )
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, content)
    return out.getvalue()


def save_office(document: Any, path: str | os.PathLike[str]) -> Path:
    """Save an openpyxl workbook or a python-docx document (anything with ``.save(file)``)
    to ``path`` with fixed zip and core-property times (:func:`normalise_zip`)."""
    buffer = io.BytesIO()
    document.save(buffer)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(normalise_zip(buffer.getvalue()))
    return out


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digests(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file below ``root``, in sorted order."""
    return {
        str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()
    }


def tree_digest(paths: Iterable[Path], root: Path) -> str:
    """One sha256 over the relative names and contents of ``paths`` (order-independent)."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(root)).encode())
        h.update(sha256_file(p).encode())
    return h.hexdigest()


def compare_folders(expected: str | os.PathLike[str], actual: str | os.PathLike[str]) -> list[str]:
    """Differences between two folders as sentences (empty when byte-identical)."""
    a, b = file_digests(Path(expected)), file_digests(Path(actual))
    problems = [f"missing: {name}" for name in sorted(a.keys() - b.keys())]
    problems += [f"unexpected: {name}" for name in sorted(b.keys() - a.keys())]
    problems += [f"differs: {name}" for name in sorted(a.keys() & b.keys()) if a[name] != b[name]]
    return problems
