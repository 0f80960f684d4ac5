"""Tokeniser (Unicode, emoji, CJK) and log-odds lingo (Monroe et al. 2008)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from communitok.communities.lingo import lingo, log_odds, term_counts
from communitok.communities.text import phrases, tokenize
from communitok.core.errors import InputError


def test_tokenize_scripts_emoji_and_noise() -> None:
    t = tokenize("Ｂｏｏｋ café DON'T y2k 2024 #BookTok @someone https://x.co/a 🔥🔥 👩‍🍳 👍🏽 🇺🇸")
    assert t[:4] == ["book", "café", "don't", "y2k"]
    assert "2024" not in t and "booktok" not in t and "someone" not in t
    assert t.count("🔥") == 2 and "👩\u200d🍳" in t and "👍🏽" in t and "🇺🇸" in t
    assert tokenize("#fyp #ForYou", keep_hashtags=True) == ["#fyp", "#foryou"]


def test_tokenize_cjk_bigrams_and_other_scripts() -> None:
    assert tokenize("晚饭后，运动一下！") == ["晚饭", "饭后", "运动", "动一", "一下"]
    assert tokenize("猫") == ["猫"]
    assert tokenize("книга 안녕하세요") == ["книга", "안녕하세요"]
    assert tokenize(None) == [] and tokenize("") == []


def test_phrases_skip_emoji() -> None:
    assert phrases(["big", "zorbly", "energy"], 3) == ["big zorbly energy"]
    assert phrases(["so", "🔥", "good"], 2) == []


def test_log_odds_ranks_planted_word_first() -> None:
    texts = ["zorbly is great today"] * 30 + ["today is a day"] * 30 + ["flimnax today"] * 30
    groups = np.repeat([0, 1, 2], 30)
    t = lingo(texts, groups, 3, top_n=3)
    top = {}
    for r in t.to_pylist():
        top.setdefault(r["community_id"], []).append(r["term"])
    assert any("zorbly" in term for term in top[0]) and top[2][0] == "flimnax"
    # "today" is in every group: never a group's top term
    assert all(terms[0] != "today" for terms in top.values())


def test_log_odds_prior_shrinks_rare_terms() -> None:
    counts = sp.csr_matrix(np.array([[2, 200, 1000], [0, 10, 1000]], float))
    z = log_odds(counts).toarray()
    assert z[0, 1] > z[0, 0] > 0  # 200 vs 10 beats 2 vs 0
    with pytest.raises(InputError):
        log_odds(counts, alpha0=-1)


def test_lingo_group_without_text_and_bad_input() -> None:
    t = lingo(["zorbly zorbly zorbly", None, ""], np.array([0, 1, 1]), 2, min_z=0.0)
    assert set(t["community_id"].to_pylist()) <= {0}
    assert lingo([], np.array([], int), 2).num_rows == 0
    with pytest.raises(InputError):
        term_counts(["a"], np.array([0, 1]), 2)
    with pytest.raises(InputError):
        lingo(["a"], np.array([0]), 1, top_n=0)
