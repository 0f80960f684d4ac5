"""Simulator ↔ store: write a simulated platform to files, or load it straight into a store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..core.errors import InputError
from ..ingest import IngestSummary, RawBatch
from ..ingest.validate import LINE
from ..simulate import DatasetInfo, GroundTruth, SimConfig, iter_tables, write_dataset
from .core import Engine, Progress


def simulate_to_folder(
    out: str | Path,
    *,
    size: str = "small",
    seed: int = 42,
    format: str = "parquet",
    overwrite: bool = True,
) -> DatasetInfo:
    """Write a seeded synthetic platform (tables + ``truth/`` bundle) to *out*."""
    config = SimConfig.preset(size, seed=seed)
    return write_dataset(config, out, format, overwrite=overwrite)


def _batches(config: SimConfig) -> tuple[GroundTruth, Iterator[RawBatch]]:
    stream = iter_tables(config)
    source = f"simulator:{config.preset_name}:seed={config.seed}"

    def gen() -> Iterator[RawBatch]:
        line = {name: 1 for name in stream.rows}
        for name, table in stream:
            n = table.num_rows
            lines = pa.array(np.arange(line[name], line[name] + n, dtype=np.int64))
            line[name] += n
            yield RawBatch(name, table.append_column(LINE, lines), f"{source}:{name}")

    return stream.truth, gen()


def ingest_simulation(
    engine: Engine, config: SimConfig | None = None, *, progress: Progress | None = None
) -> tuple[IngestSummary, GroundTruth]:
    """Simulate *config* and load every table into the engine's store (one run)."""
    config = config or SimConfig.preset("small", seed=engine.settings.seed)
    if not isinstance(config, SimConfig):
        raise InputError("must be a SimConfig", field="config")
    truth, batches = _batches(config)
    summary = engine.ingest_batches(
        batches,
        kind="ingest-simulation",
        params={"simulator": config.to_dict()},
        fingerprint=f"sim:{config.preset_name}:{config.seed}",
        progress=progress,
    )
    return summary, truth
