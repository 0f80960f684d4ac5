"""A fitted pipeline saved as JSON + numeric arrays and loaded back serves the same feeds;
loading never unpickles and only builds the feed's own classes."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import scipy.sparse as sp

from communitok.core.errors import InputError
from communitok.feed import FeedConfig, FeedPipeline, StageSpec
from communitok.feed.persist import NotPersistable, pipeline_state, restore_pipeline


def _roundtrip(p: FeedPipeline) -> FeedPipeline:
    manifest, arrays = pipeline_state(p)
    text = json.dumps(manifest)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        return restore_pipeline(json.loads(text), z)


@pytest.fixture(scope="module")
def fitted(planted_data) -> FeedPipeline:
    cat, inter = planted_data
    # the default sources, MF and content through HNSW indices (stored in faiss format)
    sources = tuple(
        StageSpec(s.kind, {**s.params, "ann_min_items": 10}, s.n, s.label)
        if s.kind in ("mf", "content")
        else s
        for s in FeedConfig().sources
    )
    return FeedPipeline(FeedConfig(sources=sources)).fit(cat, inter)


def test_roundtrip_serves_the_same_feeds(fitted: FeedPipeline) -> None:
    again = _roundtrip(fitted)
    assert again.sources["mf"].index_ is not None
    for viewer in ("u1", "u33", "stranger"):
        a = fitted.recommend(viewer, 10, mark_served=False)
        b = again.recommend(viewer, 10, mark_served=False)
        assert a.video_ids == b.video_ids
        assert [i.reason for i in a.items] == [i.reason for i in b.items]
    # shared state stays shared (one catalogue, one content model)
    assert again.ctx_.catalogue is again.updater_.catalogue
    assert again.sources["content"].content_ is again.ctx_.content
    # sessions are live state: not saved, and the loaded pipeline learns from events
    assert len(again.sessions) == 0
    assert again.observe({"viewer_id": "u1", "video_id": "v3", "liked": True})


def test_learned_scorers_are_not_persistable(planted_data) -> None:
    cat, inter = planted_data
    cfg = FeedConfig(
        sources=(StageSpec("popular", {}, n=10), StageSpec("ease", {"l2": 5.0}, n=10)),
        scorer=StageSpec("learned", {"max_iter": 5, "min_samples_leaf": 2, "negative_rate": 1.0}),
    )
    p = FeedPipeline(cfg).fit(cat, inter)
    rows, cols = [], []  # held-out engagement: two unseen videos of each viewer's community
    for u in range(inter.n_viewers):
        pool = range(0, 18) if int(inter.viewer_ids[u][1:]) < 20 else range(20, 38)
        unseen = [j for j in pool if inter.seen[u, j] == 0][:2]
        rows += [u] * len(unseen)
        cols += unseen
    p.fit_scorer(sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=inter.matrix.shape))
    with pytest.raises(NotPersistable):
        pipeline_state(p)


def test_loading_refuses_foreign_classes_and_formats(fitted: FeedPipeline) -> None:
    manifest, arrays = pipeline_state(fitted)
    bad = json.loads(json.dumps(manifest).replace('"object": "ReRanker"', '"object": "Popen"'))
    with pytest.raises(InputError):
        restore_pipeline(bad, arrays)
    with pytest.raises(InputError):
        restore_pipeline({**manifest, "format": 999}, arrays)
    # object arrays (which would need pickle) are never stored...
    assert all(a.dtype != object for a in arrays.values())
    # ...and an archive holding one cannot be read without pickle
    buf = io.BytesIO()
    np.savez(buf, **{**arrays, "a0": np.array([{"x": 1}], dtype=object)})
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z, pytest.raises(ValueError):
        restore_pipeline(manifest, z)


def test_unfitted_pipelines_cannot_be_saved() -> None:
    with pytest.raises(InputError):
        pipeline_state(FeedPipeline())
