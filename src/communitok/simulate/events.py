"""Stage 4: viewing events, generated vectorised in independent, seeded chunks.

**Organic impression** (one row of ``events``):

1. a video is drawn with weight ``creator popularity × video quality (log-normal) ×
   boost (burst ×3, campaign ×2) × P(delay fits in the window)``;
2. the event time is upload time + a delay ``~ Exp(τ = 2 days)`` truncated at the window
   end (views decay after upload, so bursts of uploads make bursts of views);
3. the viewer is drawn, with probability ``targeting``, from the video's community
   audience (weight = interest × activity), otherwise from everyone (by activity);
   campaign videos are never shown to the campaign's control group;
4. the viewer's *interest* ``x`` in the video's effective community (their weight on
   it, after merge/split mapping at upload time; 0 when unrelated) and the duration
   ``d`` drive behaviour: skip ``p = 0.6 − 0.5x (+0.1 if d > 60 s)``; completion
   ``(0.15 + 0.75x) · (0.35 + 0.65 e^{−d/90})`` (short videos complete more, loops
   possible); otherwise a watched fraction ``~ Beta(1 + 4x, 2)`` of the video, so long
   videos are not watched less in proportion; like ``(0.01 + 0.22x)`` (×1.4 when
   completed, ×0.05 when skipped), share, comment and follow likewise increase with
   ``x``, not-interested ``0.15 (1 − x)`` on skips. Treated viewers of a campaign get
   like/share/comment/follow × ``(1 + lift)`` on the target community during it.

**Planted fake engagement** (one extra chunk): bought engagement for fake creators'
boosted videos (throwaway accounts, within 6 h of upload, 0.3–2.5 s watched, 90 %
liked, 30 % followed) and engagement pods (every member watches and mostly likes and
comments on every other member's video within the hour after upload).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..core.errors import InputError
from ..core.schema import EVENTS
from ..core.seeds import derive_seed
from .content import Content
from .plans import CampaignPlan
from .sampling import (
    US_PER_DAY,
    GroupSampler,
    cdf_sample,
    sample_cum,
    truncated_exp_delay,
    ts_array,
)
from .videos import Videos
from .world import World

TAU_US = 2.0 * US_PER_DAY
HOUR_US = 3_600_000_000


def behave(
    x: np.ndarray, d: np.ndarray, mult: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Watch time and actions for impressions with interest *x* and duration *d*."""
    n = x.size
    short = np.exp(-d / 90.0)
    skipped = rng.random(n) < np.clip(0.6 - 0.5 * x + 0.1 * (d > 60), 0.02, 0.95)
    completed = ~skipped & (
        rng.random(n) < np.clip((0.15 + 0.75 * x) * (0.35 + 0.65 * short), 0, 0.97)
    )
    loops = rng.geometric(1.0 - 0.35 * short * x) - 1
    frac = rng.beta(1.0 + 4.0 * x, 2.0)
    watch = np.where(completed, d * (1 + loops) + rng.random(n) * 0.5, 0.98 * frac * d)
    watch = np.where(skipped, np.minimum(d, 0.3 + 2.7 * rng.random(n)), watch)
    boost = np.where(completed, 1.4, np.where(skipped, 0.05, 0.8))

    def act(base: np.ndarray) -> np.ndarray:
        return rng.random(n) < np.minimum(base * boost * mult, 0.95)

    return {
        "watch_time_s": np.round(watch, 2),
        "completed": completed,
        "liked": act(0.01 + 0.22 * x),
        "shared": act(0.002 + 0.035 * x),
        "commented": act(0.003 + 0.03 * x),
        "followed": act(0.001 + 0.02 * x),
        "skipped": skipped,
        "not_interested": skipped & (rng.random(n) < 0.15 * (1 - x)),
    }


def expected_rates(x: float, d: np.ndarray) -> dict[str, np.ndarray]:
    """Expected per-impression action rates of :func:`behave` at interest *x*."""
    short = np.exp(-d / 90.0)
    ps = np.clip(0.6 - 0.5 * x + 0.1 * (d > 60), 0.02, 0.95)
    pc_ = (1 - ps) * np.clip((0.15 + 0.75 * x) * (0.35 + 0.65 * short), 0, 0.97)
    boost = pc_ * 1.4 + ps * 0.05 + (1 - ps - pc_) * 0.8
    return {
        "like": boost * (0.01 + 0.22 * x),
        "share": boost * (0.002 + 0.035 * x),
    }


@dataclass
class EventModel:
    """Everything needed to generate any event chunk independently (see module doc)."""

    w: World
    v: Videos
    content: Content
    campaigns: list[CampaignPlan]
    viewer_ids: pa.Array
    video_ids: pa.Array
    n_organic: int = 0
    weight: np.ndarray = field(default_factory=lambda: np.zeros(0))
    special: pa.Table = field(default_factory=EVENTS.schema.empty_table)
    #: (video, viewer account index, time) of pod events that commented
    pod_comments: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    boosted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    fraud_per_video: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pod_per_video: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        w, v, cfg = self.w, self.v, self.w.cfg
        rng = np.random.default_rng(derive_seed(cfg.seed, "simulate", "event-model"))
        quality = rng.lognormal(0.0, 1.0, v.n)
        boost = np.where(v.burst_role >= 2, 3.0, 1.0) * np.where(v.campaign >= 0, 2.0, 1.0)
        fits = -np.expm1(-(cfg.end_us - v.t) / TAU_US)
        self.weight = w.c_pop[v.creator] * quality * boost * fits
        self.cum = np.cumsum(self.weight)
        comm, wt = w.v_comm, w.v_w
        viewers = np.repeat(np.arange(w.n_viewers)[:, None], 3, axis=1)
        late = w.comms.effective(comm, np.int64(np.iinfo(np.int64).max), w.v_side[:, None])
        ok = comm >= 0
        moved = ok & (late != comm)
        groups = np.concatenate([comm[ok], late[moved]])
        items = np.concatenate([viewers[ok], viewers[moved]])
        wts = np.concatenate([wt[ok], wt[moved]]) * w.v_act[items]
        self.audience = GroupSampler(groups, items, wts, w.comms.n)
        self.global_cum = np.cumsum(w.v_act)
        self.treated_audience = []
        for c in self.campaigns:  # the target audience restricted to the treated arm
            idx = np.flatnonzero(c.treated)
            interest = (wt[idx] * (comm[idx] == c.target)).sum(axis=1)
            self.treated_audience.append(
                GroupSampler(np.zeros(idx.size, np.int64), idx, interest * w.v_act[idx], 1)
            )
        self._special(rng)
        self.n_organic = cfg.n_events - self.special.num_rows
        if self.n_organic < max(1, cfg.n_events // 2):
            raise InputError(
                f"{cfg.n_events} events leave too few organic ones after "
                f"{self.special.num_rows} planted pod/fake events; raise n_events",
                field="n_events",
            )

    # -- chunks ---------------------------------------------------------------
    def chunk_sizes(self) -> list[int]:
        size = self.w.cfg.chunk_size
        full, rest = divmod(self.n_organic, size)
        return [size] * full + ([rest] if rest else [])

    def iter_chunks(self) -> Iterator[pa.Table]:
        """Organic chunks then the planted fake-engagement chunk (deterministic)."""
        for i, n in enumerate(self.chunk_sizes()):
            yield self.chunk(i, n)
        if self.special.num_rows:
            yield self.special

    def chunk(self, index: int, n: int) -> pa.Table:
        w, v, cfg = self.w, self.v, self.w.cfg
        rng = np.random.default_rng(derive_seed(cfg.seed, "simulate", "events", index))
        vid = sample_cum(self.cum, n, rng)
        post = v.t[vid]
        ts = post + 1_000_000 + truncated_exp_delay(cfg.end_us - post - 1_000_000, TAU_US, rng)
        ts = np.minimum(ts, cfg.end_us - 1)
        vc = v.vc[vid]
        u = sample_cum(self.global_cum, n, rng)
        targeted = rng.random(n) < cfg.targeting
        aud = self.audience.sample(np.where(targeted, vc, -1), rng)
        u = np.where(aud >= 0, aud, u)
        mult = np.ones(n)
        for i, c in enumerate(self.campaigns):
            bad = np.flatnonzero((v.campaign[vid] == i) & c.control[u])
            if bad.size and self.treated_audience[i].size(0):
                u[bad] = self.treated_audience[i].sample(np.zeros(bad.size, np.int64), rng)
            lift = c.treated[u] & (vc == c.target) & (ts >= c.start) & (ts < c.end)
            mult[lift] *= 1.0 + c.lift
        eff = w.comms.effective(w.v_comm[u], post[:, None], w.v_side[u][:, None])
        x = (w.v_w[u] * (eff == vc[:, None])).sum(axis=1)
        cols = behave(x, self.content.duration[vid], mult, rng)
        order = np.argsort(ts, kind="stable")
        return self._table(u[order], vid[order], ts[order], {k: a[order] for k, a in cols.items()})

    def _table(
        self, u: np.ndarray, vid: np.ndarray, ts: np.ndarray, cols: dict[str, np.ndarray]
    ) -> pa.Table:
        n = u.size
        arrays = [
            self.viewer_ids.take(pa.array(u, pa.int64())),
            self.video_ids.take(pa.array(vid, pa.int64())),
            ts_array(ts),
            pa.array(cols["watch_time_s"], pa.float64()),
            *(
                pa.array(cols[k], pa.bool_())
                for k in (
                    "completed",
                    "liked",
                    "shared",
                    "commented",
                    "followed",
                    "skipped",
                    "not_interested",
                )
            ),
            pa.repeat("simulate", n),
        ]
        return pa.Table.from_arrays(arrays, schema=EVENTS.schema)

    # -- planted fake engagement ------------------------------------------------
    def _special(self, rng: np.random.Generator) -> None:
        w, v, cfg = self.w, self.v, self.w.cfg
        d = self.content.duration
        parts: list[tuple[np.ndarray, ...]] = []
        fake_videos = np.flatnonzero(w.c_fake[v.creator])
        self.fraud_per_video = np.zeros(v.n)
        throw = np.flatnonzero(w.v_throwaway)
        n_fraud = round(cfg.fake_event_share * cfg.n_events) if throw.size else 0
        if fake_videos.size and n_fraud:
            pick = rng.random(fake_videos.size) < 0.6
            for c in np.unique(v.creator[fake_videos]):  # at least one boosted video each
                own = v.creator[fake_videos] == c
                if not pick[own].any():
                    pick[np.flatnonzero(own)[0]] = True
            self.boosted = fake_videos[pick][:n_fraud]
            share = rng.dirichlet(np.ones(self.boosted.size))  # every boosted video gets some
            extra = cdf_sample(share, n_fraud - self.boosted.size, rng)
            vid = self.boosted[np.concatenate([np.arange(self.boosted.size), extra])]
            u = throw[rng.integers(0, throw.size, n_fraud)]
            span = np.minimum(6 * HOUR_US, cfg.end_us - v.t[vid] - 2)
            ts = v.t[vid] + 1 + (rng.random(n_fraud) * span).astype(np.int64)
            watch = np.minimum(d[vid], 0.3 + 2.2 * rng.random(n_fraud))
            false = np.zeros(n_fraud, bool)
            liked, followed = rng.random(n_fraud) < 0.9, rng.random(n_fraud) < 0.3
            shared = rng.random(n_fraud) < 0.02
            parts.append((u, vid, ts, watch, false, liked, shared, false, followed, false, false))
            self.fraud_per_video = np.bincount(vid, minlength=v.n).astype(float)
        self.pod_per_video = np.zeros(v.n)
        pod_u: list[np.ndarray] = []
        pod_v: list[np.ndarray] = []
        base = w.n_viewers
        for members in w.pods:
            for m in members:
                own = np.flatnonzero(v.creator == m)
                for k, other in enumerate(members):
                    if other != m:
                        pod_v.append(own)
                        pod_u.append(np.full(own.size, base + k))
            base += members.size
        if pod_v:
            vid = np.concatenate(pod_v)
            u = np.concatenate(pod_u)
            n = vid.size
            span = np.minimum(HOUR_US - 60_000_000, cfg.end_us - v.t[vid] - 2)
            ts = v.t[vid] + 1 + (rng.random(n) * span).astype(np.int64)
            completed = rng.random(n) < 0.7
            watch = np.where(completed, d[vid] + rng.random(n), d[vid] * rng.uniform(0.6, 0.95, n))
            commented = rng.random(n) < 0.4
            false = np.zeros(n, bool)
            parts.append(
                (
                    u,
                    vid,
                    ts,
                    np.round(watch, 2),
                    completed,
                    rng.random(n) < 0.95,
                    rng.random(n) < 0.25,
                    commented,
                    false,
                    false,
                    false,
                )
            )
            self.pod_comments = (vid[commented], u[commented], ts[commented])
            self.pod_per_video = np.bincount(vid, minlength=v.n).astype(float)
        names = (
            "completed",
            "liked",
            "shared",
            "commented",
            "followed",
            "skipped",
            "not_interested",
        )
        if parts:
            cat = [np.concatenate([p[i] for p in parts]) for i in range(11)]
            order = np.argsort(cat[2], kind="stable")
            cols = {"watch_time_s": cat[3][order]} | {
                k: cat[4 + i][order] for i, k in enumerate(names)
            }
            self.special = self._table(cat[0][order], cat[1][order], cat[2][order], cols)
        else:
            self.special = EVENTS.schema.empty_table()

    # -- counts for the videos table ----------------------------------------------
    def expected_counts(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Platform counters ≈ expected events × ``view_scale`` (Poisson / binomial noise)."""
        cfg, d = self.w.cfg, self.content.duration
        organic = self.n_organic * self.weight / self.weight.sum()
        t = cfg.targeting
        r_in, r_out = expected_rates(0.6, d), expected_rates(0.05, d)
        like = t * r_in["like"] + (1 - t) * r_out["like"]
        share = t * r_in["share"] + (1 - t) * r_out["share"]
        total = organic + self.fraud_per_video + self.pod_per_video
        safe = np.maximum(total, 1e-12)
        like_rate = (organic * like + 0.9 * self.fraud_per_video + 0.95 * self.pod_per_video) / safe
        share_rate = (
            organic * share + 0.02 * self.fraud_per_video + 0.25 * self.pod_per_video
        ) / safe
        views = rng.poisson(total * cfg.view_scale)
        return {
            "view_count": views,
            "like_count": rng.binomial(views, np.clip(like_rate, 0, 1)),
            "share_count": rng.binomial(views, np.clip(share_rate, 0, 1)),
            "favourite_count": rng.binomial(views, np.clip(0.4 * like_rate, 0, 1)),
        }
