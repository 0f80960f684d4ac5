"""TF-IDF word + character n-gram features with a compact, pickle-free saved form.

Vocabulary and IDF weights are learned with scikit-learn's ``TfidfVectorizer``
(word 1–2-grams and ``char_wb`` 2–5-grams, sublinear TF, L2-normalised per block). The
character block is *transformed* by :class:`CharNgrams`, an exact re-implementation of
scikit-learn's ``char_wb`` analyzer that caches the feature ids of each distinct word: in
comment streams words repeat (Zipf), so the cache makes the character block several
times faster than the generic analyzer (measured in ``benchmarks/moderation.py``).

References: Salton & Buckley, "Term-weighting approaches in automatic text retrieval",
IP&M 1988 (TF-IDF); scikit-learn ``TfidfVectorizer`` (``analyzer="char_wb"``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as l2_normalize

from ..core.errors import InputError

_SEP = "\n"


def _pack(vocab: Sequence[str]) -> np.ndarray:
    """Vocabulary (index order) as one UTF-8 byte array (compact, no pickle)."""
    if any(_SEP in v for v in vocab):
        raise InputError("vocabulary entries must not contain newlines")
    return np.frombuffer(_SEP.join(vocab).encode("utf-8"), dtype=np.uint8).copy()


def _unpack(buf: np.ndarray) -> list[str]:
    text = bytes(np.asarray(buf, dtype=np.uint8)).decode("utf-8")
    return text.split(_SEP) if text else []


def _vocab_list(vocabulary: dict[str, int]) -> list[str]:
    out = [""] * len(vocabulary)
    for term, i in vocabulary.items():
        out[i] = term
    return out


class CharNgrams:
    """``char_wb`` n-gram TF-IDF transform with a per-word cache (same output as sklearn)."""

    def __init__(
        self,
        vocabulary: Sequence[str],
        idf: np.ndarray,
        ngram_range: tuple[int, int],
        cache_size: int = 500_000,
    ) -> None:
        self.index = {t: i for i, t in enumerate(vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float32)
        self.lo, self.hi = ngram_range
        self.cache_size = cache_size
        self._cache: dict[str, list[int]] = {}

    def _word(self, word: str) -> list[int]:
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        w = f" {word} "
        n_w = len(w)
        get = self.index.get
        ids: list[int] = []
        for n in range(self.lo, self.hi + 1):
            # sklearn's _char_wb_ngrams: a word shorter than n yields itself once
            if n >= n_w:
                j = get(w)
                if j is not None:
                    ids.append(j)
                break
            for k in range(n_w - n + 1):
                j = get(w[k : k + n])
                if j is not None:
                    ids.append(j)
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[word] = ids
        return ids

    def transform(self, docs: Sequence[str], norm: bool = True) -> sp.csr_matrix:
        """TF-IDF rows (L2-normalised unless ``norm=False``)."""
        indptr = [0]
        indices: list[int] = []
        word = self._word
        for d in docs:
            for w in d.split():
                indices.extend(word(w))
            indptr.append(len(indices))
        n_feat = len(self.idf)
        ind = np.asarray(indices, dtype=np.int32)
        x = sp.csr_matrix(
            (np.ones(len(ind), dtype=np.float32), ind, np.asarray(indptr, dtype=np.int64)),
            shape=(len(docs), n_feat),
        )
        x.sum_duplicates()
        np.log(x.data, out=x.data)
        x.data += 1.0  # sublinear tf: 1 + log(tf)
        x.data *= self.idf[x.indices]
        return l2_normalize(x, copy=False) if norm else x


class TextFeaturizer:
    """Word + character TF-IDF features of normalised comments.

    Parameters follow ``TfidfVectorizer``; ``fit`` learns vocabularies (the
    ``max_*_features`` most frequent n-grams with document frequency ``>= min_df_*``)
    and IDF weights; learned state lives in trailing-underscore attributes.
    """

    def __init__(
        self,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 5),
        max_word_features: int = 20_000,
        max_char_features: int = 30_000,
        min_df_word: int = 2,
        min_df_char: int = 3,
    ) -> None:
        self.word_ngrams = (int(word_ngrams[0]), int(word_ngrams[1]))
        self.char_ngrams = (int(char_ngrams[0]), int(char_ngrams[1]))
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.min_df_word = min_df_word
        self.min_df_char = min_df_char

    def _word_vectorizer(
        self, vocabulary: dict[str, int] | None = None, norm: str | None = "l2"
    ) -> TfidfVectorizer:
        return TfidfVectorizer(
            norm=norm,
            lowercase=False,
            ngram_range=self.word_ngrams,
            min_df=self.min_df_word if vocabulary is None else 1,
            max_features=self.max_word_features if vocabulary is None else None,
            sublinear_tf=True,
            dtype=np.float32,
            vocabulary=vocabulary,
        )

    def fit(self, docs: Sequence[str]) -> TextFeaturizer:
        if len(docs) < 2:
            raise InputError("need at least 2 documents to learn features", field="docs")
        wv = self._word_vectorizer().fit(docs)
        cv = TfidfVectorizer(
            lowercase=False,
            analyzer="char_wb",
            ngram_range=self.char_ngrams,
            min_df=self.min_df_char,
            max_features=self.max_char_features,
            sublinear_tf=True,
            dtype=np.float32,
        ).fit(docs)
        self._set_state(_vocab_list(wv.vocabulary_), wv.idf_, _vocab_list(cv.vocabulary_), cv.idf_)
        return self

    def _set_state(
        self,
        word_vocab: list[str],
        word_idf: np.ndarray,
        char_vocab: list[str],
        char_idf: np.ndarray,
    ) -> None:
        self.word_vocab_ = word_vocab
        self.char_vocab_ = char_vocab
        self.word_idf_ = np.asarray(word_idf, dtype=np.float32)
        self.char_idf_ = np.asarray(char_idf, dtype=np.float32)
        vocab = {t: i for i, t in enumerate(word_vocab)}
        self._words = self._word_vectorizer(vocab)
        self._words.idf_ = self.word_idf_
        self._words_raw = self._word_vectorizer(vocab, norm=None)
        self._words_raw.idf_ = self.word_idf_
        self._chars = CharNgrams(char_vocab, self.char_idf_, self.char_ngrams)
        self.known_words_ = frozenset(t for t in word_vocab if " " not in t)

    @property
    def n_features_(self) -> int:
        return len(self.word_vocab_) + len(self.char_vocab_)

    def transform(self, docs: Sequence[str], masked: Sequence[str] | None = None) -> sp.csr_matrix:
        """Sparse ``(len(docs), n_features_)`` matrix: word block then character block.

        With *masked* (the same documents with some words removed, e.g. community lingo)
        the features are those of *masked* but each block is divided by the norm of the
        *unmasked* document: removed words add no evidence, yet still count towards the
        comment's length, so masking never concentrates weight on the remaining words.
        """
        if not hasattr(self, "word_vocab_"):
            raise InputError("the featurizer is not fitted")
        if len(docs) == 0:
            return sp.csr_matrix((0, self.n_features_), dtype=np.float32)
        changed = np.zeros(len(docs), dtype=bool)
        if masked is not None:
            if len(masked) != len(docs):
                raise InputError("masked and docs differ in length", field="masked")
            changed = np.fromiter((m != d for m, d in zip(masked, docs, strict=True)), bool)
        idx = np.flatnonzero(changed)
        part = [masked[int(i)] for i in idx] if masked is not None else []
        blocks = []
        for raw in (self._words_raw.transform, lambda d: self._chars.transform(d, norm=False)):
            full = raw(docs).tocsr()
            n = np.sqrt(np.asarray(full.multiply(full).sum(axis=1)).ravel())
            inv = sp.diags(np.divide(1.0, n, out=np.zeros_like(n), where=n > 0))
            if len(idx):
                keep = sp.diags((~changed).astype(np.float32))
                place = sp.csr_matrix(
                    (np.ones(len(idx), np.float32), (idx, np.arange(len(idx)))),
                    shape=(len(docs), len(idx)),
                )
                full = keep @ full + place @ raw(part)
            blocks.append(inv @ full)
        return sp.hstack(blocks, format="csr").astype(np.float32)

    # --- compact state ---------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "word_vocab": _pack(self.word_vocab_),
            "word_idf": self.word_idf_,
            "char_vocab": _pack(self.char_vocab_),
            "char_idf": self.char_idf_,
            "feat_params": np.array(
                [*self.word_ngrams, *self.char_ngrams, self.min_df_word, self.min_df_char],
                dtype=np.int64,
            ),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> TextFeaturizer:
        p = [int(v) for v in arrays["feat_params"]]
        word_vocab, char_vocab = _unpack(arrays["word_vocab"]), _unpack(arrays["char_vocab"])
        if len(word_vocab) != len(arrays["word_idf"]) or len(char_vocab) != len(arrays["char_idf"]):
            raise InputError("model file is inconsistent: vocabulary and IDF sizes differ")
        f = cls((p[0], p[1]), (p[2], p[3]), len(word_vocab), len(char_vocab), p[4], p[5])
        f._set_state(word_vocab, arrays["word_idf"], char_vocab, arrays["char_idf"])
        return f
