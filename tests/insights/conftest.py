"""Fixtures: the simulator's tiny / small presets, and a store with detected communities."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from communitok.simulate import SimConfig, simulate

TABLES = ("creators", "viewers", "videos", "events", "comments", "cocreation_links")


@pytest.fixture(scope="session")
def tiny():
    return simulate(SimConfig.preset("tiny", seed=1, evolution=False))


@pytest.fixture(scope="session")
def small():
    return simulate(SimConfig.preset("small", seed=1, evolution=False))


@pytest.fixture(scope="session")
def store_path(tmp_path_factory, small):
    """A DuckDB file with the small simulation and detected communities."""
    from communitok.engine.communities import detect_communities
    from communitok.store import DuckDBStore

    path = tmp_path_factory.mktemp("insights") / "s.duckdb"
    with DuckDBStore(path) as st:
        for name in TABLES:
            st.write(name, small.tables[name])
        detect_communities(st, window_days=None)
    return path


@pytest.fixture
def store(store_path):
    from communitok.store import DuckDBStore

    st = DuckDBStore(store_path)
    yield st
    st.close()


def detected_for(store, planted) -> int:
    """The detected community whose hashtags best match a planted community (Jaccard)."""
    m = store.read("community_members", ["community_id", "member_kind", "member_id"])
    m = m.filter(pc.equal(m["member_kind"], "hashtag"))
    tags: dict[int, set[str]] = {}
    for cid, t in zip(m["community_id"].to_pylist(), m["member_id"].to_pylist(), strict=True):
        tags.setdefault(cid, set()).add(t)
    want = set(planted.hashtags)
    return max(tags, key=lambda c: (len(tags[c] & want) / len(tags[c] | want), -c))
