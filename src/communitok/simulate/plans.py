"""Planted time-bound phenomena: bursts (with spill-over) and brand campaigns.

* **Burst.** An item (a new hashtag or a new sound) has a low baseline usage in one
  community over the whole window (``baseline_per_day`` videos a day) and then takes off:
  extra videos using it are posted with a triangular profile ``start → peak → end``
  whose peak rate is ``magnitude × baseline``. With probability ``spill_rate`` it spills
  into another community (a bridged partner when there is one) after ``lag_days``, with
  a smaller triangular wave. Burst videos also get a view boost (trending content).
* **Campaign.** A brand's ambassadors (popular creators of the target community) post
  tagged videos during ``[start, end)``. Viewers interested in the target community are
  randomly split into *treated* (exposed) and *control* (never shown campaign videos).
  During the window, treated viewers' like/share/comment/follow probabilities on the
  target community's videos are multiplied by ``1 + lift``: the planted, known lift.
  With ``campaign_design="community"`` every viewer is treated (no control arm): every
  organic impression on the target community during the window gets the lift (planted
  bought / pod engagement does not), the truth for difference-in-differences and
  synthetic control.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.seeds import derive_seed
from .sampling import US_PER_DAY
from .words import BRANDS, SOUND_WORDS
from .world import World


@dataclass
class BurstPlan:
    id: str
    kind: str  # "hashtag" | "sound"
    item: str  # hashtag name, or sound title for sounds
    sound: int  # index into the sound registry (-1 for hashtags)
    community: int
    start: int
    peak: int
    end: int
    magnitude: float
    n_videos: int
    n_baseline: int
    baseline_per_day: float
    peak_per_day: float
    spills: list[tuple[int, int, int]] = field(default_factory=list)  # (community, lag µs, n)


@dataclass
class CampaignPlan:
    id: str
    brand: str
    tags: list[str]
    target: int
    start: int
    end: int
    lift: float
    ambassadors: np.ndarray
    control_creators: np.ndarray
    treated: np.ndarray  # bool over viewers
    control: np.ndarray  # bool over viewers
    n_videos: int


def plan_bursts(w: World) -> list[BurstPlan]:
    cfg, comms = w.cfg, w.comms
    rng = np.random.default_rng(derive_seed(cfg.seed, "simulate", "bursts"))
    if cfg.n_bursts == 0 or cfg.burst_share == 0:
        return []
    partner: dict[int, int] = {}
    for a, b, _ in w.bridges:
        partner.setdefault(a, b)
        partner.setdefault(b, a)
    n_b = max(5, round(cfg.burst_share * cfg.n_videos / cfg.n_bursts))
    order = rng.permutation(comms.stable)
    taken = {t for tags in comms.tags for t in tags}
    plans = []
    for i in range(cfg.n_bursts):
        c = int(order[i % order.size])
        dur = rng.uniform(max(2.0, 0.1 * cfg.days), max(2.5, 0.2 * cfg.days))
        s_day = rng.uniform(0.15 * cfg.days, 0.55 * cfg.days)
        start = cfg.start_us + int(s_day * US_PER_DAY)
        end = start + int(dur * US_PER_DAY)
        peak = start + int(rng.uniform(0.25, 0.5) * dur * US_PER_DAY)
        magnitude = float(rng.uniform(10.0, 30.0))
        peak_rate = 2.0 * n_b / dur
        base_rate = peak_rate / magnitude
        word = comms.lingo[c][i % 6]
        if i % 2 == 0:
            kind, name = "hashtag", f"{word}challenge"
            if name in taken:
                name = f"{word}challenge{i}"
            taken.add(name)
            sound = -1
        else:
            kind, sound = "sound", len(w.sound_titles)
            name = f"{word} {SOUND_WORDS[i % len(SOUND_WORDS)]}"
            w.sound_titles.append(name)
            w.sound_authors.append(f"{comms.stems[c]}tok studio")
            w.sound_dur.append(float(rng.integers(10, 40)))
        plan = BurstPlan(
            id=f"b{i:02d}",
            kind=kind,
            item=name,
            sound=sound,
            community=c,
            start=start,
            peak=peak,
            end=end,
            magnitude=magnitude,
            n_videos=n_b,
            n_baseline=max(1, round(base_rate * cfg.days)),
            baseline_per_day=base_rate,
            peak_per_day=peak_rate,
        )
        if comms.stable.size > 1 and rng.random() < cfg.spill_rate:
            others = [int(s) for s in comms.stable if s != c]
            target = partner.get(c, others[int(rng.integers(0, len(others)))])
            lag = int(rng.uniform(1.0, max(1.5, 0.1 * cfg.days)) * US_PER_DAY)
            n_spill = max(3, round(rng.uniform(0.3, 0.5) * n_b))
            plan.spills.append((target, lag, n_spill))
        plans.append(plan)
    return plans


def plan_campaigns(w: World) -> list[CampaignPlan]:
    cfg, comms = w.cfg, w.comms
    rng = np.random.default_rng(derive_seed(cfg.seed, "simulate", "campaigns"))
    plans = []
    # brands go for big audiences: the largest stable communities, in turn
    order = comms.stable[np.argsort(-comms.size[comms.stable], kind="stable")]
    interested = np.zeros((w.n_viewers, comms.K), bool)
    for j in range(3):
        ok = w.v_comm[:, j] >= 0
        interested[np.flatnonzero(ok), w.v_comm[ok, j]] = True
    for i in range(cfg.n_campaigns):
        target = int(order[i % order.size])
        start = cfg.start_us + int(rng.uniform(0.3, 0.5) * cfg.days * US_PER_DAY)
        end = start + int(0.25 * cfg.days * US_PER_DAY)
        pool = np.flatnonzero((w.c_home == target) & ~w.c_fake & (w.c_pod < 0))
        if pool.size < 2:
            pool = np.flatnonzero(w.c_home == target)
        k = max(2, round(0.1 * pool.size))
        p = w.c_pop[pool] / w.c_pop[pool].sum()
        amb = np.sort(rng.choice(pool, min(k, pool.size), replace=False, p=p))
        rest = np.setdiff1d(pool, amb)
        ctrl = np.sort(rng.choice(rest, min(amb.size, rest.size), replace=False))
        aud = interested[:, target]
        coin = rng.random(w.n_viewers) < 0.5
        if cfg.campaign_design == "community":  # everyone exposed, no control arm
            aud = coin = np.ones(w.n_viewers, bool)
        brand = BRANDS[i % len(BRANDS)] + ("" if i < len(BRANDS) else str(i))
        plans.append(
            CampaignPlan(
                id=f"cp{i:02d}",
                brand=brand,
                tags=["ad", brand],
                target=target,
                start=start,
                end=end,
                lift=float(cfg.campaign_lift),
                ambassadors=amb,
                control_creators=ctrl,
                treated=aud & coin,
                control=aud & ~coin,
                n_videos=max(3, round(0.005 * cfg.n_videos)),
            )
        )
    return plans
