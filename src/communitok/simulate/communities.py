"""Stage 1a of the generative model: the planted communities and their vocabularies.

``K = n_communities`` *lineage* communities with Zipf-like sizes, each with distinctive
hashtags, invented lingo, signature sounds and effects. With ``evolution`` on, four of
them take part in planted events: one is *born* partway (no content before
``t_birth``), two *merge* at ``t_merge`` into a new community ``M`` (their audiences
and hashtags mix from then on), one of the larger ones *splits* at ``t_split`` into two
new communities (its creators and viewers divide by a fixed side bit; each side keeps
half the old hashtags/lingo and gains new ones). The *effective* community of a piece
of content is its lineage community mapped through those events at the content's time
(:meth:`Communities.effective`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..core.seeds import derive_seed
from .config import SimConfig
from .sampling import US_PER_DAY
from .words import EFFECT_NAMES, PHRASE_FORMS, TAG_SUFFIXES, community_names, invent_words


def n_global_sounds(cfg: SimConfig) -> int:
    """How many global "chart" sounds the platform has."""
    return max(8, cfg.n_videos // 300)


@dataclass
class Communities:
    """All community records: lineage ``0..K-1`` then derived (merged, split halves)."""

    K: int
    ids: list[str]
    names: list[str]
    stems: list[str]
    categories: list[str]
    kinds: list[str]
    parents: list[list[int]]
    active_from: np.ndarray  # µs
    active_to: np.ndarray  # µs (window end when open)
    tags: list[list[str]]
    lingo: list[list[str]]
    sounds: list[list[int]]  # indices into World.sound_titles
    effects: list[list[int]]  # indices into World.effect_names
    size: np.ndarray  # lineage size weights (len K)
    stable: np.ndarray  # lineage ids not touched by evolution
    born: int = -1
    m1: int = -1
    m2: int = -1
    merged: int = -1
    split: int = -1
    s1: int = -1
    s2: int = -1
    t_birth: int = 0
    t_merge: int = 0
    t_split: int = 0

    @property
    def n(self) -> int:
        return len(self.ids)

    def effective(self, comm: ArrayLike, t: ArrayLike, side: ArrayLike) -> np.ndarray:
        """Map lineage community ids at times *t* through merge/split (``-1`` stays)."""
        out = np.array(comm, dtype=np.int32, copy=True)
        if self.merged < 0:
            return out
        t = np.broadcast_to(t, out.shape)
        side = np.broadcast_to(side, out.shape)
        m = ((out == self.m1) | (out == self.m2)) & (t >= self.t_merge)
        out[m] = self.merged
        s = (out == self.split) & (t >= self.t_split)
        out[s] = np.where(side[s], self.s2, self.s1)
        return out


def build_communities(
    cfg: SimConfig,
) -> tuple[Communities, list[str], list[str], list[float], list[str]]:
    """Plant communities and their vocabularies; returns sound/effect registries too."""
    rng = np.random.default_rng(derive_seed(cfg.seed, "simulate", "communities"))
    K = cfg.n_communities
    named = community_names(K)
    taken: set[str] = set()
    size = 1.0 / np.arange(1, K + 1) ** 0.6
    size = size[rng.permutation(K)]
    start, end = cfg.start_us, cfg.end_us
    c = Communities(
        K=K,
        ids=[],
        names=[],
        stems=[],
        categories=[],
        kinds=[],
        parents=[],
        active_from=np.zeros(0, np.int64),
        active_to=np.zeros(0, np.int64),
        tags=[],
        lingo=[],
        sounds=[],
        effects=[],
        size=size,
        stable=np.arange(K),
    )
    titles: list[str] = []
    authors: list[str] = []
    durs: list[float] = []
    effects: list[str] = list(EFFECT_NAMES)

    def new_sounds(stem: str, k: int) -> list[int]:
        out = []
        for w in invent_words(rng, k, taken):
            out.append(len(titles))
            titles.append(f"{w} ({stem} sound)")
            authors.append(f"{stem}tok studio")
            durs.append(float(rng.integers(8, 60)))
        return out

    def new_effects(stem: str, k: int) -> list[int]:
        out = []
        for w in invent_words(rng, k, taken):
            out.append(len(effects))
            effects.append(f"{w.capitalize()} {stem.capitalize()}")
        return out

    def new_lingo(k_words: int, k_phrases: int) -> list[str]:
        words = invent_words(rng, k_words, taken)
        forms = rng.choice(len(PHRASE_FORMS), k_phrases, replace=False)
        return words + [PHRASE_FORMS[f].format(words[i]) for i, f in enumerate(forms)]

    def add(
        name: str,
        stem: str,
        cat: str,
        kind: str,
        parents: list[int],
        t0: int,
        t1: int,
        tags: list[str],
        lingo: list[str],
        sounds: list[int],
        effs: list[int],
    ) -> int:
        c.ids.append(f"k{len(c.ids):02d}")
        c.names.append(name)
        c.stems.append(stem)
        c.categories.append(cat)
        c.kinds.append(kind)
        c.parents.append(parents)
        c.active_from = np.append(c.active_from, t0)
        c.active_to = np.append(c.active_to, t1)
        c.tags.append(tags)
        c.lingo.append(lingo)
        c.sounds.append(sounds)
        c.effects.append(effs)
        return len(c.ids) - 1

    for stem, name, cat in named:
        suffixes = rng.choice(len(TAG_SUFFIXES), 5, replace=False)
        tags = [name] + [stem + TAG_SUFFIXES[s] for s in suffixes]
        add(
            name,
            stem,
            cat,
            "base",
            [],
            start,
            end,
            tags,
            new_lingo(6, 2),
            new_sounds(stem, 4),
            new_effects(stem, 2),
        )

    if cfg.evolution:
        # the splitting community is one of the larger ones (both halves need members)
        big = np.argsort(-size, kind="stable")[: max(1, K // 3)]
        split = int(big[rng.integers(0, big.size)])
        rest = rng.permutation(np.setdiff1d(np.arange(K), [split]))[:3]
        c.born, c.m1, c.m2 = (int(r) for r in rest)
        c.split = split
        roles = np.array([c.born, c.m1, c.m2, c.split])
        c.stable = np.setdiff1d(np.arange(K), roles)
        day = US_PER_DAY
        jitter = lambda: int(rng.uniform(-0.03, 0.03) * cfg.days * day)  # noqa: E731
        c.t_birth = start + int(0.35 * cfg.days * day) + jitter()
        c.t_merge = start + int(0.50 * cfg.days * day) + jitter()
        c.t_split = start + int(0.65 * cfg.days * day) + jitter()
        c.kinds[c.born] = "born"
        c.active_from[c.born] = c.t_birth
        c.active_to[c.m1] = c.active_to[c.m2] = c.t_merge
        c.active_to[c.split] = c.t_split
        a, b = c.m1, c.m2
        c.merged = add(
            c.stems[a] + c.stems[b] + "tok",
            c.stems[a] + c.stems[b],
            c.categories[a],
            "merged",
            [a, b],
            c.t_merge,
            end,
            c.tags[a] + c.tags[b] + [c.stems[a] + c.stems[b]],
            c.lingo[a] + c.lingo[b],
            c.sounds[a] + c.sounds[b],
            c.effects[a] + c.effects[b],
        )
        s = c.split
        for half, prefix in ((0, "neo"), (1, "trad")):
            stem = prefix + c.stems[s]
            sl = slice(0, 3) if half == 0 else slice(3, 6)
            new_tags = [stem + "tok"] + [
                stem + TAG_SUFFIXES[i] for i in rng.choice(len(TAG_SUFFIXES), 2, replace=False)
            ]
            old_lingo = c.lingo[s][:3] if half == 0 else c.lingo[s][3:6]
            idx = add(
                stem + "tok",
                stem,
                c.categories[s],
                "split",
                [s],
                c.t_split,
                end,
                c.tags[s][sl] + new_tags,
                old_lingo + new_lingo(3, 1),
                c.sounds[s][half * 2 : half * 2 + 2] + new_sounds(stem, 1),
                c.effects[s][half : half + 1] + new_effects(stem, 1),
            )
            if half == 0:
                c.s1 = idx
            else:
                c.s2 = idx
    n_global = n_global_sounds(cfg)
    for i in range(n_global):
        titles.append(f"chart hit {i + 1}")
        authors.append(f"artist {i % 37 + 1}")
        durs.append(float(rng.integers(15, 200)))
    return c, titles, authors, durs, effects
