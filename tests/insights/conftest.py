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


@pytest.fixture(scope="session")
def listened_path(tmp_path_factory, store_path):
    """The small store plus trend results and moderated comments (the listening report's
    optional inputs)."""
    import shutil

    from communitok.core.settings import Settings
    from communitok.engine import open_engine
    from communitok.engine.safety import classify_stored
    from communitok.engine.trends import detect_trends

    path = tmp_path_factory.mktemp("listen") / "l.duckdb"
    shutil.copy(store_path, path)
    folder = path.parent
    with open_engine(Settings(store=str(path), rejects_dir=str(folder / "rejects"))) as eng:
        detect_trends(eng)
        classify_stored(eng.store)
    return path


@pytest.fixture
def listened(listened_path):
    from communitok.store import DuckDBStore

    st = DuckDBStore(listened_path)
    yield st
    st.close()
