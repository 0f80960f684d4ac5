"""Stage 1 of the generative model: communities, creators, viewers and planted actors.

* **Communities.** ``K = n_communities`` *lineage* communities with Zipf-like sizes, each
  with distinctive hashtags, invented lingo, signature sounds and effects. With
  ``evolution`` on, four of them take part in planted events: one is *born* partway
  (no content before ``t_birth``), two *merge* at ``t_merge`` into a new community ``M``
  (their audiences and hashtags mix from then on), one *splits* at ``t_split`` into two
  new communities (its creators and viewers divide by a fixed side bit; each side keeps
  half the old hashtags/lingo and gains new ones). The *effective* community of a piece
  of content is its lineage community mapped through those events at the content's time
  (:meth:`Communities.effective`).
* **Creators** have a home community (weighted by community size), heavy-tailed
  popularity (log-normal) and posting activity; a few *bridge* two communities.
* **Viewers** have interests in 1–3 communities (weights summing to 1, secondary
  interests favour bridged partners) and heavy-tailed activity. Throwaway accounts
  (no interests) exist for bought engagement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from ..core.seeds import derive_seed
from .config import SimConfig
from .sampling import US_PER_DAY, GroupSampler, cdf_sample
from .words import (
    EFFECT_NAMES,
    MEGA_TAGS,
    PHRASE_FORMS,
    REGION_WEIGHTS,
    TAG_SUFFIXES,
    community_names,
    invent_words,
)


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


@dataclass
class World:
    """Everything fixed before content is posted (numpy arrays indexed by position)."""

    cfg: SimConfig
    comms: Communities
    mega_tags: list[str]
    # sounds / effects registries (non-original sounds; originals are added per video)
    sound_titles: list[str]
    sound_authors: list[str]
    sound_dur: list[float]
    effect_names: list[str]
    global_sounds: np.ndarray
    n_global_effects: int
    # creators
    c_home: np.ndarray
    c_second: np.ndarray
    c_side: np.ndarray
    c_pop: np.ndarray
    c_act: np.ndarray
    c_region: np.ndarray
    c_created: np.ndarray
    c_fake: np.ndarray
    c_pod: np.ndarray
    # viewers
    v_comm: np.ndarray  # (n, 3) lineage ids, -1 padded
    v_w: np.ndarray  # (n, 3) weights summing to 1 (0 for throwaways)
    v_side: np.ndarray
    v_act: np.ndarray
    v_region: np.ndarray
    v_registered: np.ndarray
    v_throwaway: np.ndarray
    bridges: list[tuple[int, int, str]] = field(default_factory=list)
    pods: list[np.ndarray] = field(default_factory=list)
    trolls: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    spammers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def n_creators(self) -> int:
        return self.c_home.size

    @property
    def n_viewers(self) -> int:
        return self.v_side.size

    def creators_by_home(self, weight: np.ndarray | None = None) -> GroupSampler:
        """Sampler of creators within their home (lineage) community."""
        w = self.c_act if weight is None else weight
        return GroupSampler(self.c_home, np.arange(self.n_creators), w, self.comms.n)


def _rng(cfg: SimConfig, label: str) -> np.random.Generator:
    return np.random.default_rng(derive_seed(cfg.seed, "simulate", label))


def build_communities(
    cfg: SimConfig,
) -> tuple[Communities, list[str], list[str], list[float], list[str]]:
    """Plant communities and their vocabularies; returns sound/effect registries too."""
    rng = _rng(cfg, "communities")
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
    n_global = _n_global_sounds(cfg)
    for i in range(n_global):
        titles.append(f"chart hit {i + 1}")
        authors.append(f"artist {i % 37 + 1}")
        durs.append(float(rng.integers(15, 200)))
    return c, titles, authors, durs, effects


def _n_global_sounds(cfg: SimConfig) -> int:
    return max(8, cfg.n_videos // 300)


def build_world(cfg: SimConfig) -> World:
    """Plant communities, creators, viewers, bridges, pods, fake creators, trolls."""
    comms, titles, authors, durs, effects = build_communities(cfg)
    n_global = _n_global_sounds(cfg)
    rng = _rng(cfg, "actors")
    K, nC, _nV = comms.K, cfg.n_creators, cfg.n_viewers
    start = cfg.start_us
    p_comm = comms.size / comms.size.sum()
    reg_p = np.asarray(REGION_WEIGHTS, float) / sum(REGION_WEIGHTS)

    # creators: 3 per community first, the rest by community size
    home = np.concatenate([np.repeat(np.arange(K), 3), cdf_sample(p_comm, nC - 3 * K, rng)])
    home = home[rng.permutation(nC)].astype(np.int32)
    pop = rng.lognormal(0.0, 1.5, nC)
    act = np.exp(0.6 * np.log(pop) + rng.normal(0, 0.5, nC))
    created = start - rng.integers(30 * US_PER_DAY, 1500 * US_PER_DAY, nC)
    side = rng.random(nC) < 0.5
    if comms.split >= 0:  # both halves of the splitting community get creators
        members = np.flatnonzero(home == comms.split)
        side[members] = rng.permutation(members.size) % 2 == 1
    if comms.born >= 0:
        b = home == comms.born
        created[b] = comms.t_birth - rng.integers(0, 3 * US_PER_DAY, int(b.sum()))
    world = World(
        cfg=cfg,
        comms=comms,
        mega_tags=[t for t, _ in MEGA_TAGS],
        sound_titles=titles,
        sound_authors=authors,
        sound_dur=durs,
        effect_names=effects,
        global_sounds=np.arange(len(titles) - n_global, len(titles)),
        n_global_effects=len(EFFECT_NAMES),
        c_home=home,
        c_second=np.full(nC, -1, np.int32),
        c_side=side,
        c_pop=pop,
        c_act=act,
        c_region=cdf_sample(reg_p, nC, rng),
        c_created=created,
        c_fake=np.zeros(nC, bool),
        c_pod=np.full(nC, -1, np.int32),
        v_comm=np.zeros((0, 3), np.int32),
        v_w=np.zeros((0, 3)),
        v_side=np.zeros(0, bool),
        v_act=np.zeros(0),
        v_region=np.zeros(0, np.int64),
        v_registered=np.zeros(0, np.int64),
        v_throwaway=np.zeros(0, bool),
    )
    _plant_bridges(world, rng)
    _plant_viewers(world, rng, p_comm)
    _plant_fakes_and_pods(world, rng)
    return world


def _plant_bridges(w: World, rng: np.random.Generator) -> None:
    cfg, comms = w.cfg, w.comms
    stable = comms.stable
    pairs = [(int(a), int(b)) for i, a in enumerate(stable) for b in stable[i + 1 :]]
    chosen = rng.permutation(len(pairs))[: cfg.bridges]
    for i in sorted(chosen):
        a, b = pairs[i]
        w.bridges.append((a, b, comms.stems[a] + comms.stems[b]))
    partner: dict[int, list[int]] = {}
    for a, b, _ in w.bridges:
        partner.setdefault(a, []).append(b)
        partner.setdefault(b, []).append(a)
    # crossover creators: mostly along bridges, a few between other stable communities
    cand = np.flatnonzero(np.isin(w.c_home, stable))
    n_bridging = round(cfg.bridge_creator_rate * w.n_creators)
    for ci in rng.permutation(cand)[:n_bridging]:
        h = int(w.c_home[ci])
        opts = partner.get(h) or [int(s) for s in stable if s != h]
        w.c_second[ci] = opts[int(rng.integers(0, len(opts)))]
    for a, b, _ in w.bridges:  # at least two crossover creators per bridge
        for x, y in ((a, b), (b, a)):
            if not np.any((w.c_home == x) & (w.c_second == y)):
                free = np.flatnonzero((w.c_home == x) & (w.c_second < 0))
                if free.size:
                    w.c_second[free[int(rng.integers(0, free.size))]] = y


def _plant_viewers(w: World, rng: np.random.Generator, p_comm: np.ndarray) -> None:
    cfg, nV = w.cfg, w.cfg.n_viewers
    partner = np.full(w.comms.K, -1)
    for a, b, _ in w.bridges:
        partner[a], partner[b] = b, a
    k = 1 + (rng.random(nV) < 0.5).astype(int) + (rng.random(nV) < 0.15).astype(int)
    comm = cdf_sample(p_comm, 3 * nV, rng).reshape(nV, 3).astype(np.int32)
    use_partner = (rng.random(nV) < 0.4) & (partner[comm[:, 0]] >= 0)
    comm[use_partner, 1] = partner[comm[use_partner, 0]]
    comm[k < 2, 1] = -1
    comm[k < 3, 2] = -1
    comm[comm[:, 1] == comm[:, 0], 1] = -1
    comm[(comm[:, 2] == comm[:, 0]) | (comm[:, 2] == comm[:, 1]), 2] = -1
    wt = np.stack([np.ones(nV), rng.uniform(0.2, 0.6, nV), rng.uniform(0.1, 0.3, nV)], axis=1)
    wt[comm < 0] = 0.0
    n_throw = max(5, round(0.01 * nV)) if cfg.fake_event_share > 0 else 0
    throw = np.zeros(nV, bool)
    throw[rng.choice(nV, n_throw, replace=False)] = True
    comm[throw] = -1
    wt[throw] = 0.0
    sums = wt.sum(axis=1, keepdims=True)
    wt = np.divide(wt, sums, out=np.zeros_like(wt), where=sums > 0)
    w.v_comm, w.v_w = comm, wt
    w.v_side = rng.random(nV) < 0.5
    w.v_act = rng.lognormal(0.0, 1.0, nV)
    w.v_act[throw] = 0.0
    reg_p = np.asarray(REGION_WEIGHTS, float) / sum(REGION_WEIGHTS)
    w.v_region = cdf_sample(reg_p, nV, rng)
    w.v_registered = cfg.start_us - rng.integers(30 * US_PER_DAY, 2000 * US_PER_DAY, nV)
    w.v_registered[throw] = cfg.start_us - rng.integers(0, 2 * US_PER_DAY, n_throw)
    w.v_throwaway = throw
    normal = np.flatnonzero(~throw)
    n_troll = max(3, nV // 500)
    picks = rng.choice(normal, min(normal.size, 2 * n_troll), replace=False)
    w.trolls, w.spammers = np.sort(picks[:n_troll]), np.sort(picks[n_troll:])


def _plant_fakes_and_pods(w: World, rng: np.random.Generator) -> None:
    cfg = w.cfg
    stable = w.comms.stable
    if cfg.fake_event_share > 0 and cfg.fake_creator_rate > 0:
        n_fake = max(1, round(cfg.fake_creator_rate * w.n_creators))
        fake = rng.choice(w.n_creators, n_fake, replace=False)
        w.c_fake[fake] = True
        w.c_pop[fake] *= 0.3
    for p in range(cfg.n_pods):
        size = int(rng.integers(cfg.pod_size[0], cfg.pod_size[1] + 1))
        home = int(stable[p % stable.size])
        free = np.flatnonzero((w.c_home == home) & (w.c_pod < 0) & ~w.c_fake)
        if free.size < 2 * size:
            free = np.flatnonzero((w.c_pod < 0) & ~w.c_fake & np.isin(w.c_home, stable))
        members = np.sort(rng.choice(free, min(size, free.size), replace=False))
        w.c_pod[members] = p
        w.pods.append(members)
