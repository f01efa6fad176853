"""Reading raw files (CSV/XLSX) into raw tables, and writing and loading processed data."""

from __future__ import annotations

from vip2analysis.io.files import (
    FIXED_XML_TIME,
    FIXED_ZIP_TIME,
    compare_folders,
    file_digests,
    normalise_zip,
    sha256_file,
    tree_digest,
)
from vip2analysis.io.processed import (
    OUTPUT_FILES,
    Processed,
    is_synthetic,
    load_processed,
    write_processed,
)
from vip2analysis.io.read import RawTable, find_raw_files, read_file

__all__ = [
    "FIXED_XML_TIME",
    "FIXED_ZIP_TIME",
    "OUTPUT_FILES",
    "Processed",
    "RawTable",
    "compare_folders",
    "file_digests",
    "find_raw_files",
    "is_synthetic",
    "load_processed",
    "normalise_zip",
    "read_file",
    "sha256_file",
    "tree_digest",
    "write_processed",
]
