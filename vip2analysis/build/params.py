"""Notebook parameters: read from the tagged cell, checked before any kernel starts."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

from vip2analysis.contract.parameters import BUILD_SET, check_parameter
from vip2analysis.errors import ParameterError

__all__ = [
    "batch_notebooks",
    "check_extra",
    "check_parameters",
    "notebook_parameters",
]


_SCALARS = {"str": str, "int": int, "float": float, "bool": bool}


def batch_notebooks(folder: str | os.PathLike[str]) -> list[Path]:
    """The numbered notebooks of ``folder`` that the build runs: all but those whose
    metadata says ``{"vip2": {"batch": false}}`` (the explorer, made for the lab)."""
    out = []
    for path in sorted(Path(folder).glob("[0-9]*.ipynb")):
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
        if meta.get("vip2", {}).get("batch", True):
            out.append(path)
    return out


def _parameters_source(notebook: Path) -> str:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ParameterError(
            f"{notebook.name}: needs exactly one cell tagged `parameters`, found {len(cells)}"
        )
    source = cells[0]["source"]
    return "".join(source) if isinstance(source, list) else source


def notebook_parameters(notebook: str | os.PathLike[str]) -> dict[str, tuple[str, Any]]:
    """Name -> (type name, default) of the typed literals in the ``parameters`` cell.

    Every statement must be ``name: type = literal`` with type str, int, float or bool.
    """
    notebook = Path(notebook)
    tree = ast.parse(_parameters_source(notebook))
    out: dict[str, tuple[str, Any]] = {}
    for node in tree.body:
        kind = getattr(getattr(node, "annotation", None), "id", None)
        if (
            not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name))
            or kind not in _SCALARS
            or node.value is None
        ):
            raise ParameterError(
                f"{notebook.name}: parameters cell line {node.lineno}: write `name: type = literal` "
                f"with type one of {tuple(_SCALARS)}"
            )
        out[node.target.id] = (kind, ast.literal_eval(node.value))
    return out


def check_extra(extra: dict[str, Any]) -> None:
    """Refuse ``--param`` values for what the build sets itself, naming the flag to use."""
    for name in extra:
        if name in BUILD_SET:
            raise ParameterError(
                f"--param {name}=... is set by the build itself; use {BUILD_SET[name]} instead"
            )


def check_parameters(notebook: Path, params: dict[str, Any]) -> None:
    """Raise ParameterError naming notebook, parameter and what it accepts: the names and
    types of the notebook's parameter cell, then the values and ranges of
    :mod:`vip2analysis.contract.parameters`."""
    declared = notebook_parameters(notebook)
    for name, value in params.items():
        if name not in declared:
            raise ParameterError(
                f"{notebook.name}: unknown parameter `{name}`; it accepts: {', '.join(sorted(declared))}"
            )
        kind = declared[name][0]
        expected = _SCALARS[kind]
        good = isinstance(value, expected) and not (kind != "bool" and isinstance(value, bool))
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            good = True
        if not good:
            raise ParameterError(
                f"{notebook.name}: parameter `{name}` must be {kind}, got {type(value).__name__} {value!r}"
            )
        check_parameter(name, value, where=notebook.name)
