"""One contract for every pipeline stage (sources, scorers, re-ranker, explainer)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from communitok.core.errors import InputError
from communitok.feed import (
    SCORERS,
    SOURCES,
    Explainer,
    FeedPipeline,
    ReRanker,
    Stage,
)
from communitok.feed.stages import CandidateSource, RequestBatch, ViewerRow

# a parameter value each stage must reject with an InputError naming the field
BAD_PARAMS: dict[str, tuple[str, object]] = {
    "popular": ("half_life_days", -1.0),
    "trending": ("window_days", 0),
    "ease": ("l2", 0.0),
    "mf": ("factors", 0),
    "content": ("interest_weight", 2.0),
    "community": ("half_life_days", 0),
    "following": ("half_life_days", -2),
    "explore": ("new_creator_max_videos", -1),
    "rrf": ("k", -1),
    "learned": ("model", "forest"),
    "rerank": ("diversity", 1.5),
}

STAGE_CLASSES: dict[str, type[Stage]] = {**SOURCES, **SCORERS, "rerank": ReRanker}


def test_every_registered_stage_has_a_contract_case() -> None:
    assert set(STAGE_CLASSES) == set(BAD_PARAMS)


@pytest.mark.parametrize("kind", sorted(STAGE_CLASSES))
def test_stage_params_roundtrip_and_validation(kind: str) -> None:
    cls = STAGE_CLASSES[kind]
    stage = cls()
    assert isinstance(stage, Stage)
    assert isinstance(cls.name, str) and cls.name
    params = stage.get_params()
    rebuilt = cls(**params)
    assert rebuilt.get_params() == params
    assert type(stage).__name__ in repr(stage)
    field, value = BAD_PARAMS[kind]
    with pytest.raises(InputError) as e:
        cls(**{**params, field: value})
    assert e.value.field == field


def test_explainer_is_a_stage() -> None:
    ex = Explainer(("explore",))
    assert Explainer(**ex.get_params()).get_params() == ex.get_params()


def _request(ctx, viewers: list[int], exclude_seen: bool = True) -> RequestBatch:
    it = ctx.interactions
    n = len(viewers)
    v = np.asarray(viewers)
    known = v >= 0
    sel = sp.csr_matrix(
        (np.ones(known.sum()), (np.flatnonzero(known), v[known])), shape=(n, it.n_viewers)
    )
    return RequestBatch(
        viewers=v,
        history=sp.csr_matrix(sel @ it.matrix, dtype=np.float32),
        exclude=sp.csr_matrix(
            sel @ it.seen if exclude_seen else (n, ctx.catalogue.n_videos), dtype=np.float32
        ),
        communities=sp.csr_matrix(sel @ it.viewer_communities, dtype=np.float32),
        following=sp.csr_matrix(sel @ it.following, dtype=np.float32),
        now=ctx.now,
    )


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_source_contract(kind: str, planted_ctx) -> None:
    ctx = planted_ctx
    params = {"factors": 8, "iterations": 5} if kind == "mf" else {}
    src: CandidateSource = SOURCES[kind](**params)
    assert src.fit(ctx) is src
    # known viewers of both communities, an unknown viewer (-1), a viewer w/o history
    req = _request(ctx, [0, 25, -1])
    n_items = ctx.catalogue.n_videos
    c = src.candidates(req, 10)
    assert c.items.shape == c.scores.shape and c.items.shape[0] == 3 and c.items.shape[1] <= 10
    for r in range(3):
        row = c.items[r][c.items[r] >= 0]
        assert len(set(row.tolist())) == len(row), "duplicates"
        assert np.all(row < n_items)
        seen = set(req.exclude[r].indices.tolist())
        assert not (set(row.tolist()) & seen), "served an excluded video"
        sc = c.scores[r][: len(row)]
        assert np.all(np.isfinite(sc)) and np.all(np.diff(sc) <= 1e-6), "not sorted"
        assert np.all(c.items[r][len(row) :] == -1)
    # scores of arbitrary items agree with candidate scores
    s = src.score(req, c.items)
    ok = c.items >= 0
    np.testing.assert_allclose(s[ok], c.scores[ok], rtol=1e-4, atol=1e-5)
    assert np.all(np.isneginf(s[~ok]))
    # huge n is capped, n <= 0 is an error
    assert src.candidates(req, 10_000).items.shape[1] <= n_items
    with pytest.raises(InputError):
        src.candidates(req, 0)
    # deterministic: a fresh fit gives the same candidates
    again = SOURCES[kind](**params).fit(ctx).candidates(req, 10)
    np.testing.assert_array_equal(again.items, c.items)
    # every proposed item can be explained
    for r in range(3):
        for item in c.items[r][c.items[r] >= 0][:3]:
            reason = src.explain(ViewerRow.of(req, r, ctx.catalogue), int(item))
            assert reason.kind and reason.text


def test_unfitted_stage_raises_input_error() -> None:
    with pytest.raises(InputError):
        FeedPipeline().recommend("u0")
