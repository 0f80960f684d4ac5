"""Lingo false positives on the simulator's planted clean comments (several communities)."""

from __future__ import annotations

import numpy as np
import pytest

simulate_mod = pytest.importorskip("communitok.simulate", reason="simulator not available")


@pytest.fixture(scope="module")
def sim():
    try:
        return simulate_mod.simulate(simulate_mod.SimConfig.preset("tiny", seed=11))
    except Exception as exc:  # the simulator is developed beside this package
        pytest.skip(f"simulator failed: {exc}")


def test_clean_comments_with_lingo_are_not_flagged(sim, shipped_model) -> None:
    truth = sim.truth
    labels = truth.comment_labels()
    video_comm = truth.video_community()
    lingo = {c.id: list(c.lingo) for c in truth.communities}
    c = sim["comments"]
    ids, texts, vids = (c[k].to_pylist() for k in ("comment_id", "text", "video_id"))
    by_comm: dict[str, list[int]] = {}
    for i, (cid, vid) in enumerate(zip(ids, vids, strict=True)):
        if labels.get(cid, "clean") == "clean" and video_comm.get(vid) in lingo:
            by_comm.setdefault(video_comm[vid], []).append(i)
    assert len(by_comm) >= 4, "need clean comments from several communities"
    all_lingo = sorted({w for ws in lingo.values() for w in ws})
    rates = {}
    for comm, idx in by_comm.items():
        pred = shipped_model.predict([texts[i] for i in idx], lingo=all_lingo)
        rates[comm] = float(np.mean(pred != "ok"))
    overall = sum(rates[k] * len(v) for k, v in by_comm.items()) / sum(map(len, by_comm.values()))
    assert overall <= 0.02, rates
    assert max(rates.values()) <= 0.08, rates


def test_planted_spam_and_insults_are_caught(sim, shipped_model) -> None:
    labels = sim.truth.comment_labels()
    c = sim["comments"]
    ids, texts = c["comment_id"].to_pylist(), c["text"].to_pylist()
    pred = shipped_model.predict(texts)
    for cat, floor in (("spam", 0.6), ("offensive", 0.5)):
        idx = [i for i, cid in enumerate(ids) if labels.get(cid) == cat]
        if len(idx) >= 10:
            assert np.mean(pred[idx] != "ok") >= floor
