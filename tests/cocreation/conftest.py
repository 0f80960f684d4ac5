"""Fixtures for co-creation tests: the real TikTok stitch graph in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest


def read_tsv(path: Path, string_cols: tuple[str, ...]) -> pa.Table:
    """Tab-separated, header, quoted text with newlines; ids kept as strings."""
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter="\t", newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in string_cols}, strings_can_be_null=True
        ),
    )


@pytest.fixture(scope="session")
def stitch_edges(shared_data: Path) -> pa.Table:
    return read_tsv(
        shared_data / "stitchgraph" / "edges.tsv.gz", ("stitcher_video_id", "stitchee_video_id")
    )


@pytest.fixture(scope="session")
def stitch_reference(shared_data: Path) -> pa.Table:
    return pacsv.read_csv(
        shared_data / "stitchgraph" / "reference_metrics" / "all_video_metrics_df.csv"
    )
