"""One local[2] SparkSession for the whole session, the tiny simulator data set, and the
community memberships the single-node pipeline finds on it.

The test modules skip only when pyspark is not importable (the ``spark`` extra)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def spark():
    from communitok.engine.spark import spark_session

    s = spark_session("local[2]", app="communitok-tests")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def sim(tmp_path_factory) -> Path:
    from communitok.simulate import SimConfig, write_dataset

    d = tmp_path_factory.mktemp("sim")
    write_dataset(SimConfig.preset("tiny", seed=1), d, "parquet")
    return d


@pytest.fixture(scope="session")
def members(sim: Path) -> Path:
    """``community_members`` of the single-node pipeline (all member kinds) as Parquet."""
    import pyarrow.parquet as pq

    from communitok.communities.pipeline import find_communities

    res = find_communities(
        pq.read_table(sim / "videos.parquet"), pq.read_table(sim / "events.parquet")
    )
    assert res.communities.num_rows >= 3
    path = sim / "community_members.parquet"
    pq.write_table(res.members, path)
    return path
