"""Audience overlap: exact Jaccard / lift, and the privacy guard on shared audiences."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from communitok.core.errors import InputError
from communitok.engine import insights as ei
from communitok.insights import audience_overlap, partner_overlap, shared_people


def _aud(groups: dict[str, list[str]]) -> pa.Table:
    g = [k for k, v in groups.items() for _ in v]
    p = [x for v in groups.values() for x in v]
    return pa.table({"group": g, "person": p})


def test_known_answer() -> None:
    t = _aud({"A": ["1", "2", "3", "3"], "B": ["2", "3", "4"], "C": ["9"]})
    ov = audience_overlap(t, population=10).to_pylist()
    assert len(ov) == 1
    r = ov[0]
    assert (r["a"], r["b"], r["shared"], r["size_a"], r["size_b"]) == ("A", "B", 2, 3, 3)
    assert math.isclose(r["jaccard"], 2 / 4) and math.isclose(r["lift"], 2 * 10 / 9)
    other = _aud({"x": ["1", "4"]})
    cross = audience_overlap(t, other, population=10).to_pylist()
    assert {(r["a"], r["b"], r["shared"]) for r in cross} == {("A", "x", 1), ("B", "x", 1)}


def test_guard_suppresses_small_overlaps() -> None:
    big = [str(i) for i in range(60)]
    t = _aud({"A": big, "B": [*big[:55], "z"], "C": big[:5]})
    agg = partner_overlap(audience_overlap(t), shared_people(t), k=50)
    assert [(r["a"], r["b"], r["n_people"]) for r in agg.to_pylist()] == [("A", "B", 55)]
    assert agg.suppressed == 2


def test_bad_input() -> None:
    with pytest.raises(InputError):
        audience_overlap(_aud({}))
    with pytest.raises(InputError):
        audience_overlap(_aud({"A": ["1", "2"]}), population=1)


def test_engine_overlaps(store) -> None:
    cc = ei.overlap(store, k=50)
    assert cc.table.num_rows > 0 and min(r["n_people"] for r in cc.to_pylist()) >= 50
    cid = store.read("communities")["community_id"][0].as_py()
    for kind in ("creator-community", "creator"):
        agg = ei.overlap(store, kind, community_id=cid, top_creators=10, k=20)
        assert agg.table.num_rows > 0
        assert all(r["jaccard"] <= 1 and r["lift"] > 0 for r in agg.to_pylist())
    with pytest.raises(InputError):
        ei.overlap(store, "nope")
