"""Hate-class study: which changes to the moderation recipe lift hate F1 on *validation*.

Called by ``benchmarks/moderation.py`` (key ``hate_study`` of its JSON). Everything here
uses the development split only — the same rows, features and 5 folds as
:meth:`communitok.safety.ModerationModel.fit` — and every variant goes through the same
calibration (multinomial logistic regression on the out-of-fold scores) and per-category
threshold choice as the shipped model, so the numbers compare like with like. The test
split is never touched: a variant would be shipped only if it won here.

Variants (each replaces the hate scorer's out-of-fold score, or adds columns to the
calibration input):

- hate scorer regularisation C (shipped 0.03);
- class-weighted logistic regression (cost-sensitive training) for hate;
- soft labels from Davidson's annotator votes (each tweet counted as hate with weight
  = share of annotators who said hate, and as not-hate with the rest);
- a second stage trained on toxic tweets only (hate vs offensive), stacked;
- word-only and character-only NB-SVMs stacked beside the joint one;
- the shipped recipe with two other fold seeds (the noise floor of these numbers).

Plus a label-noise check: pairs of development tweets that are identical after
normalisation, and how often they share a label.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from communitok.safety.datasets import LabeledTexts
from communitok.safety.features import TextFeaturizer
from communitok.safety.model import (
    _fit_scorer,
    _nb_ratio,
    _targets,
    choose_thresholds,
    decide,
)
from communitok.safety.text import normalize_many
from communitok.safety.training import davidson_metrics, stratified_split

C, SPAM_C = 0.03, 0.3


def _validation(tox: np.ndarray, spam: np.ndarray, labels: np.ndarray, n_d: int) -> dict[str, Any]:
    """The shipped calibration + thresholds on out-of-fold columns → Davidson metrics."""
    y3 = np.where(labels == "hate", 0, np.where(labels == "offensive", 1, 2))
    pt = LogisticRegression(C=1.0, max_iter=1000).fit(tox, y3).predict_proba(tox)
    s = spam.reshape(-1, 1)
    ps = LogisticRegression(C=1.0, max_iter=1000).fit(s, labels == "spam").predict_proba(s)[:, 1]
    proba = np.column_stack([pt[:, 0], pt[:, 1], pt[:, 2] * ps, pt[:, 2] * (1 - ps)])
    th = choose_thresholds(proba, labels)
    m = davidson_metrics(decide(proba, th)[:n_d], labels[:n_d])
    keys = ("weighted_f1", "hate_f1", "hate_precision", "hate_recall")
    return {**{k: m[k] for k in keys}, "hate_threshold": th["hate"]}


def _oof(x: sp.csr_matrix, folds: list[Any], fit_score: Any) -> np.ndarray:
    out = np.zeros(x.shape[0])
    for tr, va in folds:
        out[va] = fit_score(tr, va)
    return out


def _nbsvm(x: sp.csr_matrix, y: np.ndarray, c: float, seed: int) -> Any:
    def fit_score(tr: np.ndarray, va: np.ndarray) -> np.ndarray:
        w, b = _fit_scorer(x[tr], y[tr], c, seed)
        return np.asarray(x[va] @ w).ravel() + b

    return fit_score


def _duplicate_agreement(docs: list[str], labels: np.ndarray) -> dict[str, Any]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(docs):
        if d:
            groups[d].append(i)
    pairs = [(a, b) for g in groups.values() for k, a in enumerate(g) for b in g[k + 1 :]]
    hate = [(a, b) for a, b in pairs if "hate" in (labels[a], labels[b])]
    return {
        "pairs": len(pairs),
        "same_label": float(np.mean([labels[a] == labels[b] for a, b in pairs])) if pairs else None,
        "pairs_with_a_hate_label": len(hate),
        "both_hate": float(np.mean([labels[a] == labels[b] for a, b in hate])) if hate else None,
    }


def hate_study(davidson: LabeledTexts, youtube: LabeledTexts, seed: int = 42) -> dict[str, Any]:
    """Out-of-fold validation numbers of recipe variants (see the module docstring)."""
    t0 = time.perf_counter()
    d_dev, _ = stratified_split(davidson.labels, 0.2, seed)
    y_dev, _ = stratified_split(youtube.labels, 0.2, seed)
    dd, yd = davidson.subset(d_dev), youtube.subset(y_dev)
    n_d = len(dd)
    labels = np.concatenate([dd.labels, yd.labels])
    docs = normalize_many([*dd.texts, *yd.texts])
    x = TextFeaturizer().fit(docs).transform(docs)
    t = _targets(labels)
    n_word = 20_000

    def base_columns(fold_seed: int) -> tuple[np.ndarray, list[Any]]:
        folds = list(StratifiedKFold(5, shuffle=True, random_state=fold_seed).split(x, labels))
        cols = [_oof(x, folds, _nbsvm(x, t[:, j], C, seed)) for j in range(3)]
        cols.append(_oof(x, folds, _nbsvm(x, t[:, 3], SPAM_C, seed)))
        return np.column_stack(cols), folds

    base, folds = base_columns(seed)
    tox, spam = base[:, :3], base[:, 3]
    res: dict[str, Any] = {"shipped recipe (NB-SVM, C=0.03)": _validation(tox, spam, labels, n_d)}

    def replace_hate(col: np.ndarray) -> np.ndarray:
        return np.column_stack([col, tox[:, 1:]])

    for c in (0.01, 0.1):
        col = _oof(x, folds, _nbsvm(x, t[:, 0], c, seed))
        res[f"hate scorer C={c}"] = _validation(replace_hate(col), spam, labels, n_d)

    def balanced_lr(tr: np.ndarray, va: np.ndarray) -> np.ndarray:
        lr = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
        return lr.fit(x[tr], t[tr, 0]).decision_function(x[va])

    col = _oof(x, folds, balanced_lr)
    res["hate: class-weighted logistic regression"] = _validation(
        replace_hate(col), spam, labels, n_d
    )
    res["hate: class-weighted LR stacked beside NB-SVM"] = _validation(
        np.column_stack([tox, col]), spam, labels, n_d
    )

    share = np.zeros(len(labels))
    if len(dd.votes):
        share[:n_d] = dd.votes[:, 0] / np.maximum(dd.votes.sum(axis=1), 1)

    def soft(tr: np.ndarray, va: np.ndarray) -> np.ndarray:
        r = _nb_ratio(x[tr], t[tr, 0])
        xr = x[tr] @ sp.diags(r)
        w = np.concatenate([share[tr], 1 - share[tr]])
        keep = w > 0
        yy = np.concatenate([np.ones(len(tr)), np.zeros(len(tr))]).astype(np.int64)
        svm = LinearSVC(C=C, random_state=seed)
        svm.fit(sp.vstack([xr, xr]).tocsr()[keep], yy[keep], sample_weight=w[keep])
        return np.asarray(x[va] @ (svm.coef_.ravel() * r)).ravel() + svm.intercept_[0]

    col = _oof(x, folds, soft)
    res["hate: soft labels from annotator votes"] = _validation(
        replace_hate(col), spam, labels, n_d
    )

    toxic = np.isin(labels, ("hate", "offensive"))

    def second_stage(tr: np.ndarray, va: np.ndarray) -> np.ndarray:
        tr = tr[toxic[tr]]
        w, b = _fit_scorer(x[tr], t[tr, 0], C, seed)
        return np.asarray(x[va] @ w).ravel() + b

    col = _oof(x, folds, second_stage)
    res["two-stage: hate vs offensive on toxic tweets, stacked"] = _validation(
        np.column_stack([tox, col]), spam, labels, n_d
    )

    xw, xc = x[:, :n_word].tocsr(), x[:, n_word:].tocsr()
    extra = [_oof(xb, folds, _nbsvm(xb, t[:, j], C, seed)) for xb in (xw, xc) for j in range(3)]
    res["word-only + char-only NB-SVMs stacked"] = _validation(
        np.column_stack([tox, *extra]), spam, labels, n_d
    )
    for fs in (1, 2):
        b, _ = base_columns(fs)
        res[f"shipped recipe, fold seed {fs}"] = _validation(b[:, :3], b[:, 3], labels, n_d)
    return {
        "protocol": "development split only; 5-fold out-of-fold scores; the shipped "
        "calibration and threshold choice for every variant; test split untouched",
        "variants": res,
        "davidson_duplicates_after_normalisation": _duplicate_agreement(
            docs[:n_d], np.asarray(dd.labels)
        ),
        "seconds": time.perf_counter() - t0,
    }
