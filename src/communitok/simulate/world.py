"""Stage 1b of the generative model: creators, viewers and planted actors.

* **Communities** come from :mod:`.communities` (names, vocabularies, evolution).
* **Creators** have a home community (weighted by community size), heavy-tailed
  popularity (log-normal) and posting activity; a few *bridge* two communities.
* **Viewers** have interests in 1–3 communities (weights summing to 1, secondary
  interests favour bridged partners) and heavy-tailed activity. Throwaway accounts
  (no interests) exist for bought engagement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.seeds import derive_seed
from .communities import Communities, build_communities, n_global_sounds
from .config import SimConfig
from .sampling import US_PER_DAY, GroupSampler, cdf_sample
from .words import EFFECT_NAMES, MEGA_TAGS, REGION_WEIGHTS


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


def build_world(cfg: SimConfig) -> World:
    """Plant communities, creators, viewers, bridges, pods, fake creators, trolls."""
    comms, titles, authors, durs, effects = build_communities(cfg)
    n_global = n_global_sounds(cfg)
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
