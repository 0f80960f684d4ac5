"""Ingest: readers per format, row validation, reject reports, batched loading."""

from .load import IngestSummary, Sink, TableSummary, batch_fingerprint, load
from .readers import (
    FORMATS,
    RawBatch,
    detect_format,
    detect_table,
    read_csv,
    read_file,
    read_jsonl,
    read_parquet,
)
from .validate import Reject, Validated, validate_batch

__all__ = [
    "FORMATS",
    "IngestSummary",
    "RawBatch",
    "Reject",
    "Sink",
    "TableSummary",
    "Validated",
    "batch_fingerprint",
    "detect_format",
    "detect_table",
    "load",
    "read_csv",
    "read_file",
    "read_jsonl",
    "read_parquet",
    "validate_batch",
]
