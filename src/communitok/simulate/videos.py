"""Stage 2: who posts what, where and when; co-creation trees.

* **Regular videos**: every creator posts at least once, the rest by posting activity.
  A video belongs to its creator's home community (bridging creators post 35 % of the
  time in their second community); born-community creators post only after the birth.
  Upload times follow a daily rhythm (more in the evening, UTC).
* **Burst / spill / campaign videos** come from :mod:`.plans`.
* Ids are assigned in upload order (like snowflake ids): ``v000000`` is the oldest,
  and upload times are made strictly increasing.
* **Co-creation** (a Yule / preferential-attachment process per lineage community):
  a regular video is a duet/stitch/sound-reuse *child* with probability
  ``cocreation_rate``; with probability ``ALPHA`` it copies the parent of an earlier
  link (rich get richer → heavy-tailed cascade sizes), otherwise it builds on a uniformly
  chosen video of the last ``RECENT_DAYS`` days (which may itself be a child → chains).
  Parents are always strictly older than their children.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.seeds import derive_seed
from .plans import BurstPlan, CampaignPlan
from .sampling import US_PER_DAY, cdf_sample, triangular_us
from .world import World

ALPHA = 0.6
RECENT_DAYS = 3.0
KINDS = ("duet", "stitch", "sound_reuse")
KIND_P = (0.4, 0.35, 0.25)
#: relative upload activity per UTC hour
HOUR_WEIGHTS = np.array(
    [3, 2, 1.5, 1, 1, 1, 1.5, 2, 3, 3.5, 4, 4, 4.5, 4.5, 4.5, 5, 5.5, 6, 7, 8, 8.5, 8, 6, 4.5]
)


@dataclass
class Videos:
    """Per-video arrays, indexed by upload order (index i → id ``v{i}``)."""

    creator: np.ndarray
    lin: np.ndarray  # lineage community
    t: np.ndarray  # upload time, µs, strictly increasing
    vc: np.ndarray  # effective community at upload time
    burst: np.ndarray  # index of the burst whose item it uses, -1
    burst_role: np.ndarray  # 0 none, 1 baseline use, 2 burst, 3 spill
    campaign: np.ndarray  # campaign index, -1
    parent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    link_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    root: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    depth: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    @property
    def n(self) -> int:
        return self.t.size


def diurnal_times(lo: np.ndarray, hi: int, start: int, rng: np.random.Generator) -> np.ndarray:
    """Upload times in ``[lo, hi)`` with a daily rhythm (per-row lower bounds)."""
    n = lo.size
    n_days = (hi - start) // US_PER_DAY
    day_lo = (lo - start) // US_PER_DAY
    day = day_lo + (rng.random(n) * (n_days - day_lo)).astype(np.int64)
    hour = cdf_sample(HOUR_WEIGHTS, n, rng)
    t = start + day * US_PER_DAY + hour * 3_600_000_000 + rng.integers(0, 3_600_000_000, n)
    bad = (t < lo) | (t >= hi)
    t[bad] = lo[bad] + (rng.random(int(bad.sum())) * (hi - lo[bad])).astype(np.int64)
    return t


def build_videos(w: World, bursts: list[BurstPlan], campaigns: list[CampaignPlan]) -> Videos:
    cfg, comms = w.cfg, w.comms
    rng = np.random.default_rng(derive_seed(cfg.seed, "simulate", "videos"))
    start, end, nC = cfg.start_us, cfg.end_us, w.n_creators
    n_special = sum(b.n_videos + sum(s[2] for s in b.spills) for b in bursts)
    n_special += sum(c.n_videos for c in campaigns)
    n_reg = max(cfg.n_videos - n_special, 1)
    first = rng.permutation(nC)[: min(n_reg, nC)]
    creator = np.concatenate([first, cdf_sample(w.c_act, n_reg - first.size, rng)])
    lin = w.c_home[creator].copy()
    sec = w.c_second[creator]
    use2 = (sec >= 0) & (rng.random(n_reg) < 0.35)
    lin[use2] = sec[use2]
    lo = np.full(n_reg, start, np.int64)
    if comms.born >= 0:
        lo[lin == comms.born] = comms.t_birth
    t = diurnal_times(lo, end, start, rng)
    parts_c, parts_l, parts_t, parts_b, parts_r, parts_k = [creator], [lin], [t], [], [], []
    parts_b.append(np.full(n_reg, -1))
    parts_r.append(np.zeros(n_reg, np.int8))
    parts_k.append(np.full(n_reg, -1))
    by_home = w.creators_by_home()
    for i, b in enumerate(bursts):
        waves = [(b.community, 0, b.n_videos, 2)] + [(c, lag, n, 3) for c, lag, n in b.spills]
        for comm, lag, n, role in waves:
            parts_c.append(by_home.sample(np.full(n, comm), rng))
            parts_l.append(np.full(n, comm))
            tt = triangular_us(b.start + lag, b.peak + lag, b.end + lag, n, rng)
            parts_t.append(np.minimum(tt, end - 1))
            parts_b.append(np.full(n, i))
            parts_r.append(np.full(n, role, np.int8))
            parts_k.append(np.full(n, -1))
    for i, c in enumerate(campaigns):
        n = c.n_videos
        parts_c.append(c.ambassadors[rng.integers(0, c.ambassadors.size, n)])
        parts_l.append(np.full(n, c.target))
        parts_t.append(rng.integers(c.start, c.end, n))
        parts_b.append(np.full(n, -1))
        parts_r.append(np.zeros(n, np.int8))
        parts_k.append(np.full(n, i))
    t = np.concatenate(parts_t).astype(np.int64)
    order = np.argsort(t, kind="stable")
    t = t[order]
    ar = np.arange(t.size, dtype=np.int64)
    t = np.maximum.accumulate(t - ar) + ar  # strictly increasing, never earlier
    creator = np.concatenate(parts_c)[order].astype(np.int64)
    lin = np.concatenate(parts_l)[order].astype(np.int32)
    v = Videos(
        creator=creator,
        lin=lin,
        t=t,
        vc=comms.effective(lin, t, w.c_side[creator]),
        burst=np.concatenate(parts_b)[order].astype(np.int32),
        burst_role=np.concatenate(parts_r)[order],
        campaign=np.concatenate(parts_k)[order].astype(np.int32),
    )
    for i, b in enumerate(bursts):  # baseline (pre-/post-burst) usage of the item
        cand = np.flatnonzero((v.lin == b.community) & (v.burst_role == 0) & (v.campaign < 0))
        cand = cand[v.burst[cand] < 0]
        pick = rng.choice(cand, min(b.n_baseline, cand.size), replace=False)
        v.burst[pick] = i
        v.burst_role[pick] = 1
    build_cascades(w, v, rng)
    return v


def build_cascades(w: World, v: Videos, rng: np.random.Generator) -> None:
    """Plant co-creation trees (see module doc); fills parent, link_kind, root, depth."""
    n = v.n
    parent = np.full(n, -1, np.int64)
    eligible = (v.burst_role != 2) & (v.burst_role != 3) & (v.campaign < 0)
    child = eligible & (rng.random(n) < w.cfg.cocreation_rate)
    r_copy, r_pick, r_new = rng.random(n), rng.random(n), rng.random(n)
    recent = int(RECENT_DAYS * US_PER_DAY)
    order = np.argsort(v.lin, kind="stable")  # by group, then upload order
    bounds = np.flatnonzero(np.diff(v.lin[order])) + 1
    for idx in np.split(order, bounds):
        if idx.size < 2:
            continue
        lo_pos = np.searchsorted(v.t[idx], v.t[idx] - recent, side="left").tolist()
        idx_l = idx.tolist()
        ch = child[idx].tolist()
        rc, rp, rn = r_copy[idx].tolist(), r_pick[idx].tolist(), r_new[idx].tolist()
        chosen: list[int] = []
        for pos in range(1, len(idx_l)):
            if not ch[pos]:
                continue
            if chosen and rc[pos] < ALPHA:
                p = chosen[int(rp[pos] * len(chosen))]
            else:
                lo = min(lo_pos[pos], pos - 1)
                p = idx_l[lo + int(rn[pos] * (pos - lo))]
            parent[idx_l[pos]] = p
            chosen.append(p)
    kind = np.where(parent >= 0, cdf_sample(np.asarray(KIND_P), n, rng), -1).astype(np.int8)
    root = np.where(parent >= 0, parent, np.arange(n))
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    depth = np.zeros(n, np.int32)
    has = parent >= 0
    while True:
        nd = np.where(has, depth[np.maximum(parent, 0)] + 1, 0).astype(np.int32)
        if np.array_equal(nd, depth):
            break
        depth = nd
    v.parent, v.link_kind, v.root, v.depth = parent, kind, root, depth
