"""The model shipped inside the package: present, small, sane, lingo-aware."""

from __future__ import annotations

import json

import numpy as np
import pytest

from communitok.safety import ModerationModel, default_model_path
from communitok.safety.text import normalize

# Invented community lingo (the simulator's idea, own syllables so the test stands alone).
SYLLABLES = ["ba", "ko", "zu", "mi", "ra", "te", "lo", "pi", "xa", "vo", "fle", "gri", "sno", "quo"]
PHRASES = ["{} check", "big {} energy", "{} era", "no {} no life"]
CLEAN = [
    "this is so {l} ✨",
    "{l} forever",
    "the {l} at the end 😭",
    "{l} {l} 🔥",
    "not me doing {l} again lol",
    "@someone {p}",
    "{p} forever",
    "omg {p} 💀",
]


def _communities(n: int = 6, per: int = 5, seed: int = 0) -> list[list[str]]:
    """Per community: invented words plus phrases built on them (like the simulator's)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        words = sorted(
            {"".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 4)))) for _ in range(per)}
        )
        out.append(words + [f.format(w) for f, w in zip(PHRASES, words, strict=False)])
    return out


def _comments(lingo: list[str]) -> list[str]:
    words = [x for x in lingo if " " not in x]
    phrases = [x for x in lingo if " " in x]
    return [
        t.replace("{l}", w).replace("{p}", p)
        for t in CLEAN
        for w, p in zip(words, phrases * 2, strict=False)
    ]


def test_shipped_file_is_small_and_loads(shipped_model: ModerationModel) -> None:
    path = default_model_path()
    assert path.is_file() and path.suffix == ".npz"
    assert path.stat().st_size < 3_000_000
    meta = shipped_model.metadata_
    assert meta["version"] == shipped_model.version_
    assert set(meta["thresholds"]) == {"hate", "offensive", "spam"}
    assert meta["validation"]["davidson"]["weighted_f1"] > 0.85
    json.dumps(meta)  # metadata is plain JSON


def test_shipped_model_examples(shipped_model: ModerationModel) -> None:
    cats = shipped_model.predict(
        [
            "check out my channel and subscribe for free gift cards urlhere",
            "i love this recipe, thank you for sharing",
            "😂😂😂",
            "#stitch with @someone",
            "",
        ]
    )
    assert list(cats) == ["spam", "ok", "ok", "ok", "ok"]


@pytest.mark.parametrize("lingo_aware", [True, False])
def test_lingo_false_positive_rate(shipped_model: ModerationModel, lingo_aware: bool) -> None:
    """Clean comments full of a community's own invented words are not flagged."""
    rates = []
    for lingo in _communities():
        texts = _comments(lingo)
        pred = shipped_model.predict(texts, lingo=lingo if lingo_aware else None)
        rates.append(float(np.mean(pred != "ok")))
    if lingo_aware:
        assert max(rates) <= 0.05 and np.mean(rates) <= 0.02
    else:  # without the lingo, "X check" reads as spam ("check my channel")
        assert np.mean(rates) > 0.02


def test_lingo_cannot_launder_known_insults(shipped_model: ModerationModel) -> None:
    text = ["you stupid bitch"]
    assert shipped_model.predict(text)[0] == "offensive"
    assert shipped_model.predict(text, lingo=["bitch", "stupid bitch", "zorbly bitch"])[0] == (
        "offensive"
    )
    words, phrases = shipped_model.lingo_terms(["bitch", "zorbly bitch", "zorbly check"])
    assert "bitch" not in words and phrases == ("zorbly check",)


def test_normalisation_is_part_of_the_model(shipped_model: ModerationModel) -> None:
    a = shipped_model.predict_proba(["FREE   GIFT cards http://spam.example/x"])
    b = shipped_model.predict_proba([normalize("free gift cards urlhere")])
    assert np.allclose(a, b)
