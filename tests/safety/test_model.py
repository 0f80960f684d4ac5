"""ModerationModel on a toy corpus: fit, thresholds, save/load, determinism, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from communitok.core.errors import InputError, NotFound
from communitok.safety import CATEGORIES, ModerationModel, choose_thresholds, decide

from .conftest import toy_corpus


def test_fit_predicts_planted_cues(toy_model: ModerationModel) -> None:
    texts = ["the grumpel is here", "you twonk", "clickhere for freecoins", "lovely garden"]
    assert list(toy_model.predict(texts)) == ["hate", "offensive", "spam", "ok"]
    p = toy_model.predict_proba(texts)
    assert p.shape == (4, 4) and np.allclose(p.sum(axis=1), 1.0)
    assert set(toy_model.thresholds_) == {"hate", "offensive", "spam"}
    assert all(0 < t < 1 for t in toy_model.thresholds_.values())
    assert toy_model.oof_proba_.shape[1] == len(CATEGORIES)


def test_bad_input_never_crashes(toy_model: ModerationModel) -> None:
    texts = ["", None, "😂😂😂", "x" * 100_000, "\x00\x01", "中文评论 grumpel", b"bytes"]
    cats = toy_model.predict(texts)  # type: ignore[arg-type]
    assert len(cats) == len(texts)
    assert cats[0] == cats[1] == cats[2] == cats[4] == "ok"  # nothing to judge → ok
    assert cats[5] == "hate"


def test_save_load_roundtrip(toy_model: ModerationModel, tmp_path: Path) -> None:
    path = toy_model.save(tmp_path / "m.npz", {"note": "toy"})
    m2 = ModerationModel.load(path)
    texts, _ = toy_corpus(50, seed=9)
    assert np.allclose(m2.predict_proba(texts), toy_model.predict_proba(texts))
    assert m2.version_ == toy_model.version_ and m2.thresholds_ == toy_model.thresholds_
    assert m2.metadata_["note"] == "toy"
    with np.load(path, allow_pickle=False) as z:  # pickle-free by construction
        assert "meta" in z.files


def test_load_rejects_garbage(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        ModerationModel.load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError):
        ModerationModel.load(bad)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, meta=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(InputError):
        ModerationModel.load(pickled)


def test_same_seed_same_model() -> None:
    texts, labels = toy_corpus(200, seed=3)
    kw = dict(max_word_features=300, max_char_features=500, n_folds=3, seed=5)
    a = ModerationModel(**kw).fit(texts, labels)
    b = ModerationModel(**kw).fit(texts, labels)
    assert a.version_ == b.version_


def test_fit_validates() -> None:
    texts, labels = toy_corpus(60)
    with pytest.raises(InputError, match="unknown labels"):
        ModerationModel(n_folds=2).fit(texts, np.where(labels == "ok", "clean", labels))
    with pytest.raises(InputError, match="n_folds"):
        ModerationModel(n_folds=1).fit(texts, labels)
    with pytest.raises(InputError, match="at least"):
        ModerationModel(n_folds=2).fit(texts[:3], labels[:3])
    with pytest.raises(InputError, match="not fitted"):
        ModerationModel().predict(["x"])


def test_thresholds_priority_and_decide() -> None:
    proba = np.array([[0.6, 0.3, 0.05, 0.05], [0.1, 0.7, 0.1, 0.1], [0.0, 0.1, 0.8, 0.1]])
    th = choose_thresholds(proba, np.array(["hate", "offensive", "spam"], dtype=object))
    assert list(decide(proba, th)) == ["hate", "offensive", "spam"]
    assert list(decide(proba, {"hate": 0.99, "offensive": 0.99, "spam": 0.99})) == ["ok"] * 3
