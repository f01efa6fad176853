"""The build never replaces processed data with data from another raw folder.

It re-cleans only from the raw folder recorded in accounting.json, and only when that
folder's content changed (not its file times).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from vip2analysis.build.runner import _clean_from, build
from vip2analysis.clean import run_clean, source_digest
from vip2analysis.errors import BuildError


@pytest.fixture
def cleaned(tmp_path: Path, synthetic_dir: Path) -> tuple[Path, Path]:
    raw = tmp_path / "raw"
    shutil.copytree(synthetic_dir, raw)
    processed = tmp_path / "processed"
    run_clean(raw, processed)
    return raw, processed


def test_accounting_records_the_source_folder_and_its_digest(cleaned):
    raw, processed = cleaned
    acc = json.loads((processed / "accounting.json").read_text(encoding="utf-8"))
    assert acc["source_path"] == str(raw.resolve())
    assert acc["source_digest"] == source_digest(raw)


def test_unchanged_source_is_not_cleaned_again_even_when_touched(cleaned):
    raw, processed = cleaned
    assert _clean_from(raw, processed) is None
    assert _clean_from(None, processed) is None
    future = (processed / "accounting.json").stat().st_mtime + 3600
    for path in raw.rglob("*"):
        os.utime(path, (future, future))  # newer files, same content
    assert _clean_from(raw, processed) is None


def test_changed_source_is_cleaned_again_from_the_recorded_folder(cleaned):
    raw, processed = cleaned
    with (raw / "gladsaxe.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    assert _clean_from(None, processed) == raw.resolve()
    assert _clean_from(raw, processed) == raw.resolve()


def test_another_raw_folder_stops_the_build_and_leaves_processed_alone(
    cleaned, tmp_path, synthetic_dir
):
    raw, processed = cleaned
    before = {p.name: p.read_bytes() for p in processed.iterdir()}
    with pytest.raises(BuildError) as info:
        build(
            notebooks_dir=Path("notebooks"),
            processed=processed,
            out=tmp_path / "out",
            raw=synthetic_dir,
        )
    message = str(info.value)
    assert str(raw.resolve()) in message and str(synthetic_dir.resolve()) in message
    assert "vip2 clean" in message
    assert {p.name: p.read_bytes() for p in processed.iterdir()} == before


def test_processed_data_without_a_recorded_source_are_not_replaced(cleaned):
    raw, processed = cleaned
    acc_path = processed / "accounting.json"
    acc = json.loads(acc_path.read_text(encoding="utf-8"))
    del acc["source_path"], acc["source_digest"]
    acc_path.write_text(json.dumps(acc), encoding="utf-8")
    with pytest.raises(BuildError, match="does not record which raw folder"):
        _clean_from(raw, processed)
    assert _clean_from(None, processed) is None


def test_no_processed_data_and_no_raw_folder_is_a_clear_error(tmp_path):
    with pytest.raises(BuildError, match="no processed data"):
        _clean_from(None, tmp_path / "processed")
    assert _clean_from(tmp_path, tmp_path / "processed") == tmp_path
