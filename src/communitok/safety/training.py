"""Training recipe and evaluation protocol for the shipped moderation model.

Protocol (seeded, documented in ``docs/safety.md``):

- Davidson 2017: stratified 80 / 20 split into *development* and *test*. YouTube spam
  (de-duplicated): stratified 80 / 20 split the same way.
- The model is fitted on both development parts together. Its out-of-fold predictions on
  the development data are the *validation* predictions: calibration and per-category
  thresholds are chosen there and the validation numbers below come from them.
- The test parts are scored once, after all choices are made.
- Domain shift for spam: leave-one-video-out over the five YouTube videos (train on
  Davidson development + four videos, test on the fifth).

Metrics: weighted and per-class F1 on Davidson's three classes (``spam`` predictions count
as ``ok`` there), spam F1 / precision / recall / MCC on YouTube.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, matthews_corrcoef, precision_recall_fscore_support
from sklearn.model_selection import train_test_split

from ..core.errors import InputError
from .datasets import LabeledTexts
from .model import ModerationModel, decide

DAVIDSON_CLASSES = ("hate", "offensive", "ok")


def stratified_split(
    labels: np.ndarray, test_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (development, test) index arrays."""
    if not 0 < test_size < 1:
        raise InputError("must be between 0 and 1", field="test_size")
    idx = np.arange(len(labels))
    dev, test = train_test_split(idx, test_size=test_size, stratify=labels, random_state=seed)
    return np.sort(dev), np.sort(test)


def davidson_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Weighted F1 and per-class F1 on hate / offensive / ok (spam counted as ok)."""
    pred = np.where(pred == "spam", "ok", pred).astype(str)
    truth = np.asarray(truth).astype(str)
    per = f1_score(truth, pred, labels=list(DAVIDSON_CLASSES), average=None, zero_division=0)
    p, r, _, _ = precision_recall_fscore_support(
        truth, pred, labels=["hate"], average=None, zero_division=0
    )
    return {
        "weighted_f1": float(f1_score(truth, pred, average="weighted", zero_division=0)),
        "macro_f1": float(np.mean(per)),
        **{f"{c}_f1": float(v) for c, v in zip(DAVIDSON_CLASSES, per, strict=True)},
        "hate_precision": float(p[0]),
        "hate_recall": float(r[0]),
        "n": len(truth),
    }


def binary_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """F1 / precision / recall / MCC / accuracy of boolean predictions."""
    pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
    p, r, f, _ = precision_recall_fscore_support(truth, pred, average="binary", zero_division=0)
    return {
        "f1": float(f),
        "precision": float(p),
        "recall": float(r),
        "mcc": float(matthews_corrcoef(truth, pred)) if len(set(truth)) > 1 else 0.0,
        "accuracy": float(np.mean(pred == truth)),
        "n": len(truth),
    }


@dataclass
class TrainResult:
    """A fitted model, the split it was fitted on and its validation numbers."""

    model: ModerationModel
    davidson_test: LabeledTexts
    youtube_test: LabeledTexts
    validation: dict[str, Any] = field(default_factory=dict)


def train_default(
    davidson: LabeledTexts,
    youtube: LabeledTexts,
    *,
    seed: int = 42,
    test_size: float = 0.2,
    **params: Any,
) -> TrainResult:
    """Fit the shipped model's recipe; the test parts are returned untouched."""
    d_dev, d_test = stratified_split(davidson.labels, test_size, seed)
    y_dev, y_test = stratified_split(youtube.labels, test_size, seed)
    dev_d, dev_y = davidson.subset(d_dev), youtube.subset(y_dev)
    texts = [*dev_d.texts, *dev_y.texts]
    labels = np.concatenate([dev_d.labels, dev_y.labels])
    model = ModerationModel(seed=seed, **params).fit(texts, labels)
    n_d = len(dev_d)
    oof_pred = decide(model.oof_proba_, model.thresholds_)
    validation = {
        "davidson": davidson_metrics(oof_pred[:n_d], dev_d.labels),
        "youtube_spam": binary_metrics(oof_pred[n_d:] == "spam", dev_y.labels == "spam"),
        "thresholds": dict(model.thresholds_),
    }
    model.metadata_.update(
        {
            "protocol": {"seed": seed, "test_size": test_size},
            "validation": validation,
        }
    )
    return TrainResult(model, davidson.subset(d_test), youtube.subset(y_test), validation)


def evaluate(
    model: ModerationModel, davidson_test: LabeledTexts, youtube_test: LabeledTexts
) -> dict[str, Any]:
    """Test-set numbers of *model* on the two held-out parts."""
    pd_ = model.predict(list(davidson_test.texts))
    py_ = model.predict(list(youtube_test.texts))
    return {
        "davidson": davidson_metrics(pd_, davidson_test.labels),
        "davidson_toxic_binary": binary_metrics(pd_ != "ok", davidson_test.labels != "ok"),
        "youtube_spam": binary_metrics(py_ == "spam", youtube_test.labels == "spam"),
    }


def leave_one_video_out(
    davidson: LabeledTexts,
    youtube: LabeledTexts,
    *,
    seed: int = 42,
    test_size: float = 0.2,
    **params: Any,
) -> dict[str, dict[str, float]]:
    """Spam metrics per held-out YouTube video (train: Davidson dev + the other videos)."""
    d_dev, _ = stratified_split(davidson.labels, test_size, seed)
    dev_d = davidson.subset(d_dev)
    out: dict[str, dict[str, float]] = {}
    for video in sorted(set(youtube.groups)):
        held = youtube.groups == video
        train_y = youtube.subset(np.flatnonzero(~held))
        test_y = youtube.subset(np.flatnonzero(held))
        model = ModerationModel(seed=seed, **params).fit(
            [*dev_d.texts, *train_y.texts], np.concatenate([dev_d.labels, train_y.labels])
        )
        pred = model.predict(list(test_y.texts))
        out[str(video)] = binary_metrics(pred == "spam", test_y.labels == "spam")
    return out
