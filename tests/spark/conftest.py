"""One local[2] SparkSession for the whole session, and the tiny simulator data set.

The test modules skip only when pyspark is not importable (the ``spark`` extra)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def spark():
    from communitok.engine.spark_jobs import spark_session

    s = spark_session("local[2]", app="communitok-tests")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def sim(tmp_path_factory) -> Path:
    from communitok.simulate import SimConfig, write_dataset

    d = tmp_path_factory.mktemp("sim")
    write_dataset(SimConfig.preset("tiny", seed=1), d, "parquet")
    return d
