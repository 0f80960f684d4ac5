"""Batched serving (``FeedPipeline.recommend_many``): the same feeds as one request after
another, including repeated viewers, onboarding, sessions and deeper feeds."""

from __future__ import annotations

import numpy as np
import pytest

from communitok.core.errors import InputError
from communitok.feed import FeedConfig, FeedPipeline, ServeRequest


@pytest.fixture()
def twins(planted_data) -> tuple[FeedPipeline, FeedPipeline]:
    cat, inter = planted_data
    return (
        FeedPipeline(FeedConfig(seed=3)).fit(cat, inter),
        FeedPipeline(FeedConfig(seed=3)).fit(cat, inter),
    )


def _same(a, b) -> None:
    assert a.viewer_id == b.viewer_id
    assert a.video_ids == b.video_ids
    assert [i.source for i in a.items] == [i.source for i in b.items]
    assert [i.reason.text for i in a.items] == [i.reason.text for i in b.items]
    assert [i.exploration for i in a.items] == [i.exploration for i in b.items]
    np.testing.assert_allclose(
        [i.score for i in a.items], [i.score for i in b.items], rtol=1e-5, equal_nan=True
    )
    assert (a.cold_start, a.n_fallback) == (b.cold_start, b.n_fallback)


def test_a_batch_serves_what_sequential_requests_serve(twins) -> None:
    one, many = twins
    cat = one.ctx_.catalogue
    liked = str(cat.video_ids[0])
    for p in twins:  # a live session: a like and a "not interested"
        p.observe({"viewer_id": "u5", "video_id": liked, "liked": True})
        p.observe({"viewer_id": "u6", "video_id": liked, "not_interested": True})
    booktok = [c for c in cat.community_ids.tolist() if "book" in str(c)]
    reqs = [
        ServeRequest("u1", 10),
        ServeRequest("u5", 10),
        ServeRequest("u6", 8),
        ServeRequest("u1", 10),  # again: must not repeat what the first request served
        ServeRequest("newcomer", 6, interests=booktok),
        ServeRequest("stranger", 6),
        ServeRequest("u30", 30),  # deeper than the default: its own batch
        ServeRequest("u2", 5, mark_served=False),
        ServeRequest("u3", 12),
    ]
    seq = [one.recommend(r.viewer_id, r.k, interests=r.interests, mark_served=r.mark_served)
           for r in reqs]  # fmt: skip
    got = many.recommend_many(reqs, max_batch=3)
    assert len(got) == len(reqs)
    for a, b in zip(seq, got, strict=True):
        _same(a, b)
    assert not set(got[0].video_ids) & set(got[3].video_ids)  # served once, not again
    assert got[4].cold_start and got[5].cold_start
    for v in ("u1", "u5", "u6", "u2", "u3", "newcomer"):  # the same sessions afterwards
        sa, sb = one.sessions.get(v), many.sessions.get(v)
        assert (sa is None) == (sb is None)
        if sa is not None and sb is not None:
            assert sorted(sa.seen.array().tolist()) == sorted(sb.seen.array().tolist())
    assert many.sessions.get("u2") is None or not many.sessions.get("u2").seen.array().size


def test_batch_input_is_checked_before_anything_is_served(twins) -> None:
    _, p = twins
    assert p.recommend_many([]) == []
    for bad in ("u1", ServeRequest("u1", 5), ["u1"], [ServeRequest("", 5)],
                [ServeRequest("u1", 0)], [ServeRequest("u1", 10**9)],
                [ServeRequest("u1", 5, interests="booktok")]):  # fmt: skip
        with pytest.raises(InputError):
            p.recommend_many(bad)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        p.recommend_many([ServeRequest("u1", 5)], max_batch=0)
    # one bad request: nothing of the batch was served (no session marked)
    with pytest.raises(InputError):
        p.recommend_many([ServeRequest("u9", 5), ServeRequest("", 5)])
    assert p.sessions.get("u9") is None
