"""Fixtures for the safety tests: the shared data sets, a tiny trained model, a store."""

from __future__ import annotations

import numpy as np
import pytest

WORDS = {
    "hate": ["grumpel", "vorshank", "blatterix"],
    "offensive": ["snarkle", "twonk", "bumfuzzle"],
    "spam": ["subscribe", "freecoins", "clickhere"],
    "ok": ["lovely", "sunny", "recipe", "garden", "music"],
}
FILLER = ["the", "this", "is", "so", "really", "today", "my", "video", "and", "you"]


def toy_corpus(n: int = 400, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Labelled toy comments: each class has its own invented cue words plus filler."""
    rng = np.random.default_rng(seed)
    cats = np.array(["hate", "offensive", "spam", "ok"], dtype=object)
    labels = cats[rng.choice(4, size=n, p=[0.15, 0.25, 0.2, 0.4])]
    texts = []
    for lab in labels:
        words = [*list(rng.choice(FILLER, size=4)), str(rng.choice(WORDS[lab]))]
        if rng.random() < 0.3:
            words.append(str(rng.choice(WORDS["ok"])))
        rng.shuffle(words)
        texts.append(" ".join(words))
    return texts, labels


@pytest.fixture(scope="session")
def toy_model():
    from communitok.safety import ModerationModel

    texts, labels = toy_corpus()
    return ModerationModel(max_word_features=500, max_char_features=1000, n_folds=3, seed=0).fit(
        texts, labels
    )


@pytest.fixture(scope="session")
def shipped_model():
    from communitok.safety import load_default_model

    return load_default_model()
