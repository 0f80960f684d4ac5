"""The comment moderation model: TF-IDF n-grams → NB-SVM scorers → calibrated probabilities.

Categories: ``hate``, ``offensive`` (harassment / offensive language), ``spam``, ``ok``.

Method
------
1. :func:`~communitok.safety.text.normalize` every comment; word 1–2-gram and character
   2–5-gram TF-IDF features (:class:`~communitok.safety.features.TextFeaturizer`).
2. Four one-vs-rest linear scorers — hate, offensive, non-toxic, spam — each a linear SVM
   on features scaled by naive-Bayes log-count ratios (NB-SVM; Wang & Manning, "Baselines
   and Bigrams", ACL 2012). The ratio is folded into the weights, so a scorer is one
   weight vector.
3. Calibration by stacking (Platt 1999; Wolpert 1992): out-of-fold scores from
   ``n_folds``-fold cross-validation train a multinomial logistic regression on the three
   toxicity scores (→ P(hate), P(offensive), P(non-toxic)) and a logistic regression on the
   spam score (→ P(spam)). The four category probabilities are
   ``P(hate), P(offensive), P(non-toxic)·P(spam), P(non-toxic)·(1−P(spam))`` (sum 1).
4. Per-category thresholds chosen on the same out-of-fold (validation) predictions, in
   priority order hate → offensive → spam, each maximising that category's F1 given the
   earlier decisions. A comment gets the first category whose probability reaches its
   threshold, else ``ok``. Thresholds are stored with the model.

The saved form is a NumPy ``.npz`` without pickles (safe to load; about 1–2 MB).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from ..core.errors import InputError, NotFound
from .features import TextFeaturizer
from .text import (
    MAX_CHARS,
    PLATFORM_LINGO,
    TOKEN,
    lingo_terms,
    mask_lingo,
    normalize,
    normalize_many,
)

CATEGORIES: tuple[str, ...] = ("hate", "offensive", "spam", "ok")
#: Categories that flag a comment, in decision priority order.
FLAGS: tuple[str, ...] = ("hate", "offensive", "spam")
#: Scorer columns: hate, offensive, non-toxic (one-vs-rest), spam.
_SCORERS = ("hate", "offensive", "nontoxic", "spam")
FORMAT = "communitok-moderation/1"
DEFAULT_MODEL = "moderation.npz"


def _nb_ratio(x: sp.csr_matrix, y: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Naive-Bayes log-count ratio of binarised features (Wang & Manning 2012)."""
    xb = x.copy()
    xb.data[:] = 1.0
    p = np.asarray(xb[y == 1].sum(axis=0)).ravel() + alpha
    q = np.asarray(xb[y == 0].sum(axis=0)).ravel() + alpha
    return np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)


def _fit_scorer(x: sp.csr_matrix, y: np.ndarray, c: float, seed: int) -> tuple[np.ndarray, float]:
    """One NB-SVM scorer → (effective weight vector, intercept)."""
    if y.min() == y.max():  # a class absent from this training set: constant score
        return np.zeros(x.shape[1], np.float32), (1.0 if y[0] else -1.0)
    r = _nb_ratio(x, y)
    svm = LinearSVC(C=c, random_state=seed).fit(x @ sp.diags(r), y)
    return (svm.coef_.ravel() * r).astype(np.float32), float(svm.intercept_[0])


def _targets(labels: np.ndarray) -> np.ndarray:
    """Binary targets of the four scorers, shape (n, 4)."""
    return np.stack(
        [labels == "hate", labels == "offensive", ~np.isin(labels, FLAGS[:2]), labels == "spam"],
        axis=1,
    ).astype(np.int64)


def _f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = float(np.sum(pred & truth))
    denom = float(np.sum(pred) + np.sum(truth))
    return 2 * tp / denom if denom else 0.0


def decide(proba: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    """Category per row: the first of hate → offensive → spam over its threshold, else ok."""
    out = np.full(len(proba), "ok", dtype=object)
    undecided = np.ones(len(proba), dtype=bool)
    for j, cat in enumerate(FLAGS):
        hit = undecided & (proba[:, j] >= thresholds[cat])
        out[hit] = cat
        undecided &= ~hit
    return out


def choose_thresholds(proba: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Per-category thresholds on validation probabilities (priority order, max F1 each)."""
    labels = np.asarray(labels, dtype=object)
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    thresholds: dict[str, float] = {}
    undecided = np.ones(len(proba), dtype=bool)
    for j, cat in enumerate(FLAGS):
        truth = labels == cat
        scores = [_f1(undecided & (proba[:, j] >= t), truth) for t in grid]
        best = float(grid[int(np.argmax(scores))]) if truth.any() else 0.5
        thresholds[cat] = best
        undecided &= ~(proba[:, j] >= best)
    return thresholds


class ModerationModel:
    """Offline comment classifier (see the module docstring for the method).

    >>> model = load_default_model()                     # doctest: +SKIP
    >>> model.predict(["check my profile for free followers"])  # doctest: +SKIP
    array(['spam'], dtype=object)
    """

    def __init__(
        self,
        *,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 5),
        max_word_features: int = 20_000,
        max_char_features: int = 30_000,
        C: float = 0.03,
        spam_C: float = 0.3,
        n_folds: int = 5,
        max_chars: int = MAX_CHARS,
        seed: int = 0,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.C = C
        self.spam_C = spam_C
        self.n_folds = n_folds
        self.max_chars = max_chars
        self.seed = seed

    def _validate(self) -> None:
        for name in ("max_word_features", "max_char_features", "max_chars"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise InputError("must be a positive integer", field=name)
        if not (isinstance(self.n_folds, int) and self.n_folds >= 2):
            raise InputError("must be an integer >= 2", field="n_folds")
        for name in ("C", "spam_C"):
            if not getattr(self, name) > 0:
                raise InputError("must be > 0", field=name)

    # --- training -----------------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Sequence[str] | np.ndarray) -> ModerationModel:
        """Learn features, scorers, calibration and thresholds from labelled comments."""
        self._validate()
        y = np.asarray(labels, dtype=object)
        if len(y) != len(texts):
            raise InputError("texts and labels differ in length", field="labels")
        bad = sorted(set(y) - set(CATEGORIES))
        if bad:
            raise InputError(f"unknown labels {bad}; use {CATEGORIES}", field="labels")
        counts = {c: int(np.sum(y == c)) for c in CATEGORIES}
        if min(counts.values()) < self.n_folds:
            raise InputError(
                f"every category needs at least n_folds={self.n_folds} examples, got {counts}",
                field="labels",
            )
        docs = normalize_many(texts, self.max_chars)
        self.featurizer_ = TextFeaturizer(
            self.word_ngrams, self.char_ngrams, self.max_word_features, self.max_char_features
        ).fit(docs)
        x = self.featurizer_.transform(docs)
        t = _targets(y)
        cs = (self.C, self.C, self.C, self.spam_C)
        oof = np.zeros((len(y), 4))
        folds = StratifiedKFold(self.n_folds, shuffle=True, random_state=self.seed)
        for tr, va in folds.split(x, y):
            x_tr, x_va = x[tr], x[va]
            for j in range(4):
                w, b = _fit_scorer(x_tr, t[tr, j], cs[j], self.seed)
                oof[va, j] = x_va @ w + b
        tox = np.where(y == "hate", 0, np.where(y == "offensive", 1, 2))
        cal_t = LogisticRegression(C=1.0, max_iter=1000).fit(oof[:, :3], tox)
        cal_s = LogisticRegression(C=1.0, max_iter=1000).fit(oof[:, 3:], t[:, 3])
        self.cal_tox_ = (cal_t.coef_.astype(np.float64), cal_t.intercept_.astype(np.float64))
        self.cal_spam_ = (cal_s.coef_.astype(np.float64), cal_s.intercept_.astype(np.float64))
        fitted = [_fit_scorer(x, t[:, j], cs[j], self.seed) for j in range(4)]
        self.coef_ = np.stack([w for w, _ in fitted], axis=1)
        self.intercept_ = np.array([b for _, b in fitted])
        self.oof_proba_ = self._calibrate(oof)
        self.thresholds_ = choose_thresholds(self.oof_proba_, y)
        self.metadata_: dict[str, Any] = {"train_counts": counts, "n_train": len(y)}
        self.version_ = self._fingerprint()
        return self

    # --- inference ------------------------------------------------------------------
    def _calibrate(self, s: np.ndarray) -> np.ndarray:
        wt, bt = self.cal_tox_
        z = s[:, :3] @ wt.T + bt
        z -= z.max(axis=1, keepdims=True)
        pt = np.exp(z)
        pt /= pt.sum(axis=1, keepdims=True)
        ws, bs = self.cal_spam_
        ps = 1.0 / (1.0 + np.exp(-(s[:, 3:] @ ws.T + bs).ravel()))
        return np.column_stack([pt[:, 0], pt[:, 1], pt[:, 2] * ps, pt[:, 2] * (1 - ps)])

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise InputError("the model is not fitted: call fit() or load()")

    def lingo_terms(self, lingo: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
        """The maskable ``(words, phrases)`` of *lingo* for this model (see
        :func:`~communitok.safety.text.lingo_terms`); a known word is a toxicity cue when
        the model, given that word alone, puts hate or offensive over its threshold."""
        self._check_fitted()
        key = frozenset(x for x in lingo if isinstance(x, str))
        cache: dict[frozenset[str], tuple[frozenset[str], tuple[str, ...]]]
        cache = self.__dict__.setdefault("_lingo_cache", {})
        if key not in cache:
            known = self.featurizer_.known_words_
            cand = sorted({t for e in key for t in TOKEN.findall(normalize(e)) if t in known})
            cues: set[str] = set()
            if cand:
                p = self._proba(self.featurizer_.transform(cand))
                th = self.thresholds_
                cues = {
                    w
                    for w, row in zip(cand, p, strict=True)
                    if row[0] >= th["hate"] or row[1] >= th["offensive"]
                }
            if len(cache) > 64:
                cache.clear()
            cache[key] = lingo_terms(key, known, cues.__contains__)
        return cache[key]

    def features(
        self, texts: Sequence[object], lingo: Iterable[str] | None = None
    ) -> sp.csr_matrix:
        """Feature matrix of raw *texts*: normalised; platform words
        (:data:`~communitok.safety.text.PLATFORM_LINGO`) and the community *lingo* are
        masked (no evidence, but they still count towards the comment's length)."""
        self._check_fitted()
        docs = normalize_many(texts, self.max_chars)
        lingo = PLATFORM_LINGO if lingo is None else (*PLATFORM_LINGO, *lingo)
        words, phrases = self.lingo_terms(lingo)
        return self.featurizer_.transform(docs, mask_lingo(docs, words, phrases))

    def predict_proba(
        self, texts: Sequence[object], lingo: Iterable[str] | None = None
    ) -> np.ndarray:
        """Probabilities ``(n, 4)`` in :data:`CATEGORIES` order; text with no known
        feature (empty, only unknown symbols) is ``ok`` with probability 1."""
        return self._proba(self.features(texts, lingo))

    def _proba(self, x: sp.csr_matrix) -> np.ndarray:
        proba = self._calibrate(np.asarray(x @ self.coef_) + self.intercept_)
        empty = np.diff(x.indptr) == 0
        proba[empty] = (0.0, 0.0, 0.0, 1.0)
        return proba

    def predict(self, texts: Sequence[object], lingo: Iterable[str] | None = None) -> np.ndarray:
        """Category per text using the stored thresholds."""
        return decide(self.predict_proba(texts, lingo), self.thresholds_)

    # --- persistence ----------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        self._check_fitted()
        return {
            **self.featurizer_.to_arrays(),
            "coef": self.coef_.astype(np.float32),
            "intercept": self.intercept_.astype(np.float64),
            "cal_tox_coef": self.cal_tox_[0],
            "cal_tox_intercept": self.cal_tox_[1],
            "cal_spam_coef": self.cal_spam_[0],
            "cal_spam_intercept": self.cal_spam_[1],
            "thresholds": np.array([self.thresholds_[c] for c in FLAGS], dtype=np.float64),
            "max_chars": np.array([self.max_chars], dtype=np.int64),
        }

    def _fingerprint(self) -> str:
        h = hashlib.sha256()
        for k, v in sorted(self._arrays().items()):
            h.update(k.encode())
            h.update(np.ascontiguousarray(v).tobytes())
        return f"nbsvm-tfidf-{h.hexdigest()[:12]}"

    def save(self, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
        """Write the model as a pickle-free compressed ``.npz``; returns the path."""
        arrays = self._arrays()
        meta = {
            "format": FORMAT,
            "version": self.version_,
            "categories": list(CATEGORIES),
            "thresholds": self.thresholds_,
            "params": {
                "C": self.C,
                "spam_C": self.spam_C,
                "n_folds": self.n_folds,
                "seed": self.seed,
                "max_word_features": self.max_word_features,
                "max_char_features": self.max_char_features,
            },
            **self.metadata_,
            **(metadata or {}),
        }
        arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), np.uint8)
        path = Path(path)
        with path.open("wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
        self.metadata_ = {k: v for k, v in meta.items() if k not in ("format",)}
        return path

    @classmethod
    def load(cls, path: str | Path) -> ModerationModel:
        """Read a model written by :meth:`save` (no pickle is ever loaded)."""
        path = Path(path)
        if not path.is_file():
            raise NotFound(f"model file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            meta = json.loads(bytes(arrays.pop("meta")).decode())
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"not a moderation model: {exc}", source=str(path)) from None
        if meta.get("format") != FORMAT:
            raise InputError(f"unsupported model format {meta.get('format')!r}", source=str(path))
        params = meta.get("params", {})
        m = cls(**{k: params[k] for k in ("C", "spam_C", "n_folds", "seed") if k in params})
        m.max_chars = int(arrays["max_chars"][0])
        m.featurizer_ = TextFeaturizer.from_arrays(arrays)
        m.word_ngrams, m.char_ngrams = m.featurizer_.word_ngrams, m.featurizer_.char_ngrams
        m.max_word_features = len(m.featurizer_.word_vocab_)
        m.max_char_features = len(m.featurizer_.char_vocab_)
        m.coef_ = arrays["coef"]
        m.intercept_ = arrays["intercept"]
        m.cal_tox_ = (arrays["cal_tox_coef"], arrays["cal_tox_intercept"])
        m.cal_spam_ = (arrays["cal_spam_coef"], arrays["cal_spam_intercept"])
        m.thresholds_ = {c: float(t) for c, t in zip(FLAGS, arrays["thresholds"], strict=True)}
        m.metadata_ = {k: v for k, v in meta.items() if k != "format"}
        m.version_ = meta["version"]
        return m


def default_model_path() -> Path:
    """Where the shipped model lives inside the installed package."""
    return Path(str(resources.files("communitok.safety").joinpath("models", DEFAULT_MODEL)))


@lru_cache(maxsize=1)
def load_default_model() -> ModerationModel:
    """The shipped model (cached); rebuild it with ``communitok safety train``."""
    path = default_model_path()
    if not path.is_file():
        raise NotFound(
            f"the shipped moderation model is missing ({path}); "
            "run `communitok safety train` to rebuild it"
        )
    return ModerationModel.load(path)
