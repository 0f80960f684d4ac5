"""Known answers on the real moderation sets in ../shared/data (skipped when absent)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from communitok.core.errors import InputError, NotFound
from communitok.engine.safety import evaluate_model
from communitok.safety.datasets import load_davidson, load_youtube_spam
from communitok.safety.training import stratified_split, train_default

pytestmark = pytest.mark.shared_data


def test_dataset_counts(shared_data: Path) -> None:
    d = load_davidson(shared_data)
    assert len(d) == 24_783
    assert {c: int(np.sum(d.labels == c)) for c in ("hate", "offensive", "ok")} == {
        "hate": 1_430, "offensive": 19_190, "ok": 4_163,
    }  # fmt: skip
    assert (
        d.votes.shape == (len(d), 3)
        and d.votes.sum() == 3 * 22_807 + 4 * 211 + 6 * 1_571 + 7 * 27 + 9 * 167
    )
    top = np.array(["hate", "offensive", "ok"], dtype=object)[d.votes.argmax(axis=1)]
    assert np.all(top == d.labels)  # the class is the annotators' majority
    assert d.subset(np.array([5, 7])).votes.tolist() == d.votes[[5, 7]].tolist()
    y = load_youtube_spam(shared_data)
    assert len(y) == 1_956 - 194  # exact duplicate texts dropped before any split
    assert sorted(set(y.groups)) == ["Eminem", "KatyPerry", "LMFAO", "Psy", "Shakira"]
    assert set(y.labels) == {"spam", "ok"}


def test_shipped_model_on_held_out_test(shared_data: Path) -> None:
    res = evaluate_model(shared_data)
    t, b = res["test"], res["baseline"]
    assert t["davidson"]["n"] == 4_957
    assert t["davidson"]["weighted_f1"] >= 0.89
    assert t["davidson"]["hate_f1"] >= 0.40
    assert t["youtube_spam"]["f1"] >= 0.90
    assert t["davidson"]["weighted_f1"] > b["davidson"]["weighted_f1"]
    assert t["youtube_spam"]["f1"] > b["youtube_spam"]["f1"]


def test_training_recipe_on_a_subsample(shared_data: Path) -> None:
    d, y = load_davidson(shared_data), load_youtube_spam(shared_data)
    keep, _ = stratified_split(d.labels, 0.8, seed=1)  # 20 % of Davidson keeps this fast
    res = train_default(d.subset(keep), y, seed=1, n_folds=3, max_char_features=5_000)
    v = res.validation
    assert 0.8 < v["davidson"]["weighted_f1"] <= 1 and v["youtube_spam"]["f1"] > 0.85
    assert set(v["thresholds"]) == {"hate", "offensive", "spam"}
    assert len(res.davidson_test) > 0 and len(res.youtube_test) > 0


def test_readers_survive_invalid_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "moderation" / "davidson"
    folder.mkdir(parents=True)
    body = b'id,count,hate_speech,offensive_language,neither,class,tweet\n0,3,0,0,3,2,"ok \xff\xfe text"\n'
    (folder / "labeled_data.csv.gz").write_bytes(gzip.compress(body))
    d = load_davidson(tmp_path)
    assert d.labels.tolist() == ["ok"] and "\ufffd" in d.texts[0]
    assert d.votes.tolist() == [[0, 0, 3]]
    (folder / "labeled_data.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(InputError):
        load_davidson(tmp_path)
    with pytest.raises(NotFound):
        load_youtube_spam(tmp_path)
