"""The cached character n-gram transform equals scikit-learn's char_wb analyzer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from communitok.safety.features import CharNgrams, TextFeaturizer

DOCS = ["the cat sat", "a b", "cats and dogs and cats", "x", "zorbly zorbly energy", "ok ok ok"]


def test_char_ngrams_match_sklearn() -> None:
    v = TfidfVectorizer(
        lowercase=False, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
    ).fit(DOCS)
    vocab = [""] * len(v.vocabulary_)
    for t, i in v.vocabulary_.items():
        vocab[i] = t
    mine = CharNgrams(vocab, v.idf_, (2, 5))
    probe = [*DOCS, "", "unseen words here", "a"]
    assert abs(mine.transform(probe) - v.transform(probe)).max() < 1e-6


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="ab c", max_size=12), min_size=1, max_size=5))
def test_char_ngrams_match_sklearn_property(docs: list[str]) -> None:
    v = TfidfVectorizer(
        lowercase=False, analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True
    ).fit(["a b c ab ba abc cab", "c cc ccc"])
    vocab = [""] * len(v.vocabulary_)
    for t, i in v.vocabulary_.items():
        vocab[i] = t
    mine = CharNgrams(vocab, v.idf_, (1, 3))
    assert abs(mine.transform(docs) - v.transform(docs)).max() < 1e-6


def test_featurizer_roundtrip_and_masking() -> None:
    f = TextFeaturizer(min_df_word=1, min_df_char=1).fit(DOCS)
    g = TextFeaturizer.from_arrays(f.to_arrays())
    x, y = f.transform(DOCS), g.transform(DOCS)
    assert x.shape == (len(DOCS), f.n_features_)
    assert abs(x - y).max() == 0
    # masking nothing changes nothing; masking keeps the unmasked norm (weight not concentrated)
    assert abs(f.transform(DOCS, list(DOCS)) - x).max() < 1e-6
    masked = f.transform(["cats and zorbly"], ["cats and"])
    plain = f.transform(["cats and"])
    assert np.linalg.norm(masked.toarray()) < np.linalg.norm(plain.toarray())
