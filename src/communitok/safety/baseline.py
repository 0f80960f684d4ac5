"""Word-list baseline: flag a comment as ``offensive`` when it contains profanity.

Uses ``alt-profanity-check`` (the ``safety`` extra; a linear SVM over a bag of words
trained on profanity-labelled text — Zhou, "profanity-check", 2019, maintained as
``alt-profanity-check``) when installed, else a small built-in list of English profanity.
It knows nothing of hate speech or spam: it is the comparison point that the measured
numbers of the moderation model are reported against.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .text import normalize_many

#: Fallback list (common English profanity; deliberately small, no slurs).
WORDS = frozenset(
    [
        "fuck",
        "fucking",
        "fucked",
        "fucker",
        "motherfucker",
        "shit",
        "shitty",
        "bullshit",
        "bitch",
        "bitches",
        "ass",
        "asshole",
        "damn",
        "dick",
        "pussy",
        "cunt",
        "whore",
        "slut",
        "bastard",
        "hoe",
        "hoes",
        "crap",
        "piss",
        "wanker",
        "twat",
    ]
)
_WORD = re.compile(r"[a-z]+")


class WordListFilter:
    """``predict_proba`` → P(profane); ``predict`` → ``offensive`` or ``ok``.

    ``backend`` is ``"auto"`` (alt-profanity-check if importable), ``"profanity-check"``
    or ``"builtin"``; ``backend_`` says which one is in use.
    """

    def __init__(self, backend: str = "auto", threshold: float = 0.5) -> None:
        self.backend = backend
        self.threshold = threshold
        self._fn = None
        if backend in ("auto", "profanity-check"):
            try:
                from profanity_check import predict_prob

                self._fn = predict_prob
            except ImportError:
                if backend == "profanity-check":
                    raise
        self.backend_ = "alt-profanity-check" if self._fn is not None else "builtin"

    def predict_proba(self, texts: Sequence[object]) -> np.ndarray:
        if self._fn is not None:
            docs = [t if isinstance(t, str) else "" for t in texts]
            return np.asarray(self._fn(docs), dtype=float) if docs else np.zeros(0)
        return np.array(
            [float(any(w in WORDS for w in _WORD.findall(t))) for t in normalize_many(texts)]
        )

    def predict(self, texts: Sequence[object]) -> np.ndarray:
        p = self.predict_proba(texts)
        return np.where(p >= self.threshold, "offensive", "ok").astype(object)
