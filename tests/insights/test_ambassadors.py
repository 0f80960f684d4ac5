"""Fake engagement / pods against the planted truth, and the ambassador fit score."""

from __future__ import annotations

import pytest

from communitok.core.errors import InputError, NotFound
from communitok.engine import insights as ei
from communitok.insights import COMPONENTS, engagement_flags, precision_recall

from .conftest import detected_for


@pytest.mark.parametrize("which", ["tiny", "small"])
def test_fake_creators_and_pods_are_flagged(request, which) -> None:
    sim = request.getfixturevalue(which)
    f = engagement_flags(sim.tables["videos"], sim.tables["events"]).to_pydict()
    pop = set(sim.tables["creators"]["creator_id"].to_pylist())
    fake_truth = set(sim.truth.fake_engagement.creators)
    pod_truth = {m for p in sim.truth.pods for m in p.members}
    fake = {c for c, x in zip(f["creator_id"], f["fake_engagement"], strict=True) if x}
    pod = {c for c, x in zip(f["creator_id"], f["pod"], strict=True) if x}
    pf = precision_recall(fake, fake_truth, pop)
    pp = precision_recall(pod, pod_truth, pop)
    assert pf["recall"] >= 0.9 and pf["false_positive_rate"] <= 0.01, pf
    assert pp["recall"] >= 0.9 and pp["false_positive_rate"] <= 0.01, pp


def test_ambassadors_rank_core_creators_and_explain(store, small) -> None:
    c = small.truth.community("booktok")
    cid = detected_for(store, c)
    agg = ei.ambassadors(store, cid, k=20, top_n=50)
    rows = sorted(agg.to_pylist(), key=lambda r: r["rank"])
    assert rows and all(r["n_people"] >= 20 for r in rows)
    for comp in COMPONENTS:
        assert comp in rows[0] and f"{comp}_pct" in rows[0]
    bad = set(small.truth.fake_engagement.creators) | {
        m for p in small.truth.pods for m in p.members
    }
    top = [r["creator_id"] for r in rows if not r["flagged"]][:10]
    core = set(c.core_creators) - bad
    assert len(set(top) & core) / min(10, len(core)) >= 0.6
    for r in rows:
        if r["flagged"]:
            assert r["fit"] == 0 and r["flags"]
    assert store.has_result("engagement_flags")


def test_ambassadors_under_k_are_withheld(store) -> None:
    cid = store.read("communities")["community_id"][0].as_py()
    agg = ei.ambassadors(store, cid, k=10**6)
    assert agg.table.num_rows == 0 and agg.suppressed > 0


def test_ambassador_errors(store, duck) -> None:
    with pytest.raises(NotFound):
        ei.ambassadors(store, 987654)
    with pytest.raises(NotFound):
        ei.ambassadors(duck, 1)
    with pytest.raises(InputError):
        ei.screen_engagement(duck)
