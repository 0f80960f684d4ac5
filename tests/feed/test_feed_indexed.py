"""Sources without dense per-request work give the dense answer; the default scales.

Every source keeps ``score_all`` (dense scores over the catalogue) as its reference;
its ``candidates`` reads ranked lists, modelled items or an index instead. On planted
data the two agree: exactly where the method is exact (same top-n scores), and with
high overlap where it approximates (overlapping memberships, HNSW).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from communitok.core.errors import InputError
from communitok.feed import (
    EASE_MAX_ITEMS,
    SOURCES,
    Catalogue,
    ContentModel,
    FeedConfig,
    FeedPipeline,
    FitContext,
    Interactions,
    StageSpec,
)
from communitok.feed.pipeline import rrf_scores
from communitok.feed.request import build_request
from communitok.feed.stages import CandidateSource

N_VIDEOS, N_VIEWERS = 300, 200


def _ctx(make_planted: Any, extra_memberships: bool = False) -> FitContext:
    t, features = make_planted(n_viewers=N_VIEWERS, n_videos=N_VIDEOS, per_viewer=10)
    vc = t["video_communities"]
    if extra_memberships:  # every third video also in a second community
        g = np.random.default_rng(0)
        ids = [f"v{i}" for i in range(0, N_VIDEOS, 3)]
        extra = pa.table(
            {
                "video_id": ids,
                "community_id": [("booktok", "guitartok")[int(g.integers(2))] for _ in ids],
                "weight": g.uniform(0.2, 0.8, len(ids)),
            }
        )
        vc = pa.concat_tables([vc, extra])
    cat = Catalogue.from_arrow(t["videos"], video_communities=vc, features=features)
    inter = Interactions.from_events(
        t["events"], cat, viewer_communities=t["viewer_communities"], follows=t["follows"]
    )
    return FitContext(cat, inter, ContentModel().fit(cat, inter), float(inter.event_ts.max()))


@pytest.fixture(scope="module")
def ctx(make_planted: Any) -> FitContext:
    return _ctx(make_planted)


#: viewers of both communities, an unknown viewer, and both followers
VIEWERS = np.array([0, 1, 5, 120, 199, -1])

EXACT = [
    ("ease", {"l2": 5.0, "side_weight": 2.0}),
    ("ease", {"l2": 5.0, "max_items": 100}),
    ("mf", {"factors": 8, "iterations": 5}),
    ("content", {}),
    ("content", {"new_only": True, "prior_weight": 0.5}),
    ("popular", {}),
    ("trending", {}),
    ("community", {}),
    ("following", {}),
    ("explore", {}),
]


def _finite(scores: np.ndarray) -> np.ndarray:
    return scores[np.isfinite(scores)]


@pytest.mark.parametrize(("kind", "params"), EXACT)
def test_indexed_candidates_equal_the_dense_top_n(kind: str, params: dict, ctx) -> None:
    src = SOURCES[kind](**params).fit(ctx)
    req = build_request(ctx, VIEWERS)
    for n in (5, 30):
        got = src.candidates(req, n)
        ref = CandidateSource.candidates(src, req, n)  # dense: score_all, then top-n
        for r in range(len(VIEWERS)):
            # the same top-n scores (ties at the cut may pick other equal-scored items)
            np.testing.assert_allclose(
                _finite(got.scores[r]), _finite(ref.scores[r]), rtol=1e-5, atol=1e-6
            )
            # and the items score as the dense scores say
            ok = got.items[r] >= 0
            dense = src.score_all(req)[r]
            np.testing.assert_allclose(
                got.scores[r][ok], dense[got.items[r][ok]], rtol=1e-5, atol=1e-6
            )


@pytest.mark.parametrize("kind", ["trending", "community", "explore"])
def test_overlapping_memberships_stay_close_to_dense(kind: str, make_planted: Any) -> None:
    ctx = _ctx(make_planted, extra_memberships=True)
    src = SOURCES[kind]().fit(ctx)
    req = build_request(ctx, np.arange(N_VIEWERS))
    got, ref = src.candidates(req, 30), CandidateSource.candidates(src, req, 30)
    overlap = [
        len(set(a[a >= 0]) & set(b[b >= 0])) / len(set(b[b >= 0]))
        for a, b in zip(got.items, ref.items, strict=True)
        if (b >= 0).any()
    ]
    assert np.mean(overlap) >= 0.95 and min(overlap) >= 0.8


@pytest.mark.parametrize("kind", ["mf", "content"])
def test_auto_switches_to_hnsw_above_the_threshold(kind: str, ctx) -> None:
    params = {"factors": 8, "iterations": 5} if kind == "mf" else {}
    exact = SOURCES[kind](**params).fit(ctx)
    assert exact.ann_ is None  # 300 videos < 20,000
    ann = SOURCES[kind](**params, ann_min_items=100).fit(ctx)
    assert ann.ann_ == "hnsw" and ann.index_ is not None
    req = build_request(ctx, np.arange(N_VIEWERS))
    a, b = ann.candidates(req, 20), exact.candidates(req, 20)
    recall = [
        len(set(x[x >= 0]) & set(y[y >= 0])) / len(set(y[y >= 0]))
        for x, y in zip(a.items, b.items, strict=True)
        if (y >= 0).any()
    ]
    assert np.mean(recall) >= 0.9
    for r in range(N_VIEWERS):  # excluded (seen) videos never come back from the index
        assert not set(a.items[r].tolist()) & set(req.excluded(r).tolist())
    with pytest.raises(InputError) as e:
        SOURCES[kind](**params, ann="bogus")
    assert e.value.field == "ann"
    with pytest.raises(InputError) as e:
        SOURCES[kind](**params, ann_min_items=0)
    assert e.value.field == "ann_min_items"


def test_the_default_configuration_bounds_every_source() -> None:
    cfg = FeedConfig()
    by_name = {s.name: s for s in cfg.sources}
    assert by_name["ease"].params["max_items"] == EASE_MAX_ITEMS
    assert all(s.n <= 200 for s in cfg.sources)
    p = FeedPipeline(cfg)
    for name in ("mf", "content", "new_videos"):
        assert p.sources[name].ann == "auto"
    # no default source scores the whole catalogue per request
    assert all(type(s).candidates is not CandidateSource.candidates for s in p.sources.values())


def test_indexed_pipeline_still_serves_the_planted_communities(ctx) -> None:
    cat, inter = ctx.catalogue, ctx.interactions
    forced = tuple(
        StageSpec(s.kind, {**s.params, "ann_min_items": 50}, s.n, s.label)
        if s.kind in ("mf", "content")
        else s
        for s in FeedConfig().sources
    )
    p = FeedPipeline(FeedConfig(sources=forced)).fit(cat, inter)
    assert p.sources["mf"].ann_ == "hnsw" and p.sources["content"].ann_ == "hnsw"
    for viewer, lo in (("u3", 0), ("u150", N_VIDEOS // 2)):
        f = p.recommend(viewer, k=10, mark_served=False)
        assert len(f.items) == 10
        idx = np.asarray([cat.index[v] for v in f.video_ids])
        main = [i for i, item in zip(idx, f.items, strict=True) if not item.exploration]
        inside = np.mean([lo <= i < lo + N_VIDEOS // 2 for i in main])
        assert inside >= 0.8


def test_rrf_fast_path_equals_features_then_predict(ctx) -> None:
    p = FeedPipeline(FeedConfig()).fit(ctx.catalogue, ctx.interactions)
    req = p.build_request(np.arange(-1, N_VIEWERS))
    items, scores, _ = p.candidates(req)
    fast = rrf_scores(p.scorer, p.features_, items, scores)
    slow = p.scorer.predict(p.features_.build(req, items, scores)).astype(np.float32)
    ok = items >= 0
    np.testing.assert_array_equal(fast[ok], slow[ok])
