"""Reading raw files (CSV/XLSX) into raw tables, and writing and loading processed data."""

from __future__ import annotations

from vip2analysis.io.files import (
    FIXED_XML_TIME,
    FIXED_ZIP_TIME,
    compare_folders,
    file_digests,
    normalise_zip,
    save_office,
    sha256_file,
    tree_digest,
)
from vip2analysis.io.processed import (
    OUTPUT_FILES,
    Processed,
    is_synthetic,
    load_processed,
    load_register,
    write_processed,
)
from vip2analysis.io.read import (
    RawFolder,
    RawTable,
    find_raw_files,
    read_file,
    read_frame,
    scan_raw_folder,
)

__all__ = [
    "FIXED_XML_TIME",
    "FIXED_ZIP_TIME",
    "OUTPUT_FILES",
    "Processed",
    "RawFolder",
    "RawTable",
    "compare_folders",
    "file_digests",
    "find_raw_files",
    "is_synthetic",
    "load_processed",
    "load_register",
    "normalise_zip",
    "read_file",
    "read_frame",
    "save_office",
    "scan_raw_folder",
    "sha256_file",
    "tree_digest",
    "write_processed",
]
