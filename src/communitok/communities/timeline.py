"""Communities over time: detect per window, then track (Greene et al. 2010).

Windows are consecutive, equally long and in UTC: ``[start + i·w, start + (i+1)·w)``.
A window's videos are those created in it, its events those with ``ts`` in it. Each
window's communities are matched to the tracked ones by the Jaccard index of their
members — hashtags by default (``match_kinds``): in a short window the set of active
creators and sounds churns far more than a community's hashtags — see :mod:`.tracking`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from .items import CommunityConfig, detect_items
from .tracking import Tracking, Window, track

US_PER_DAY = 86_400_000_000


def _us(table: pa.Table, col: str) -> np.ndarray:
    c = table[col].cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return pc.fill_null(c, -(2**62)).to_numpy(zero_copy_only=False)


@dataclass(frozen=True, eq=False)
class Timeline:
    tracking: Tracking
    #: (label, start, end) per window, UTC
    windows: list[tuple[str, datetime, datetime]]
    #: number of communities detected in each window
    counts: list[int]
    #: each window's communities as member sets (local id → ``kind:id`` members)
    sets: list[dict[int, frozenset[str]]]


def window_bounds(
    videos: pa.Table,
    window_days: float,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[tuple[int, int]]:
    """Window bounds in µs covering the videos' ``created_at`` (or [start, end))."""
    if not window_days > 0:
        raise InputError("must be > 0", field="window_days")
    ts = _us(videos, "created_at") if videos.num_rows else np.zeros(0, np.int64)
    ts = ts[ts > -(2**62)]
    lo = int(start.timestamp() * 1e6) if start else (int(ts.min()) if len(ts) else 0)
    hi = int(end.timestamp() * 1e6) if end else (int(ts.max()) + 1 if len(ts) else lo)
    w = int(window_days * US_PER_DAY)
    n = max(0, -(-(hi - lo) // w))
    return [(lo + i * w, lo + (i + 1) * w) for i in range(n)]


def member_sets(
    videos: pa.Table,
    events: pa.Table | None,
    links: pa.Table | None,
    cfg: CommunityConfig,
    kinds: tuple[str, ...] = ("hashtag",),
) -> dict[int, frozenset[str]]:
    """Detected communities of one slice of data as sets of item ids of *kinds*.

    Communities with fewer than two members of *kinds* (a creator pod, a lone bridge tag)
    are left out of tracking when others have two or more; without any such community,
    every community keeps all its items."""
    if videos.num_rows == 0:
        return {}
    ic = detect_items(videos, events, links, cfg)
    groups = group_items(ic.item_labels())
    typed = {c: sum(m.split(":", 1)[0] in kinds for m in s) for c, s in groups.items()}
    if any(n >= 2 for n in typed.values()):
        groups = {c: s for c, s in groups.items() if typed[c] >= 2}
    return restrict(groups, kinds)


def group_items(labels: dict[str, int]) -> dict[int, frozenset[str]]:
    out: dict[int, set[str]] = {}
    for item, c in labels.items():
        out.setdefault(c, set()).add(item)
    return {c: frozenset(s) for c, s in out.items()}


def restrict(sets: dict[int, frozenset[str]], kinds: tuple[str, ...]) -> dict[int, frozenset[str]]:
    """Keep members of *kinds* (``kind:id``); a set with none of them stays whole."""
    out = {}
    for c, members in sets.items():
        sub = frozenset(m for m in members if m.split(":", 1)[0] in kinds)
        out[c] = sub or members
    return out


def track_communities(
    videos: pa.Table,
    events: pa.Table | None = None,
    links: pa.Table | None = None,
    *,
    config: CommunityConfig | None = None,
    window_days: float = 7.0,
    threshold: float = 0.3,
    death_after: int = 2,
    match_kinds: tuple[str, ...] = ("hashtag",),
    initial: dict[int, frozenset[str]] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Timeline:
    """Detect communities in each window and track them (see the module docstring).

    With ``config.resolution == "auto"`` the resolution is chosen once on all the data
    and then fixed for every window, so that windows are cut at the same scale (a
    per-window choice would let a thin window merge communities that then look like
    deaths and rebirths). A tracked community survives ``death_after − 1`` windows
    without a match (Greene et al.'s delay).
    """
    cfg = (config or CommunityConfig()).validate()
    if cfg.resolution == "auto" and videos.num_rows:
        det = detect_items(videos, events, links, cfg).detector
        if det is not None and det.n_nodes_ and np.isfinite(det.resolution_):
            cfg = replace(cfg, resolution=float(det.resolution_))
    if "created_at" not in videos.column_names:
        raise InputError("videos lacks column 'created_at'", field="created_at")
    bounds = window_bounds(videos, window_days, start=start, end=end)
    v_ts = _us(videos, "created_at")
    e_ts = _us(events, "ts") if events is not None and events.num_rows else None
    l_ts = (
        _us(links, "created_at")
        if links is not None and links.num_rows and "created_at" in links.column_names
        else None
    )
    wins, labels, counts = [], [], []
    for lo, hi in bounds:
        v = videos.filter(pa.array((v_ts >= lo) & (v_ts < hi)))
        e = None
        if events is not None and e_ts is not None:
            e = events.filter(pa.array((e_ts >= lo) & (e_ts < hi)))
        lk = links
        if links is not None and l_ts is not None:
            lk = links.filter(pa.array((l_ts >= lo) & (l_ts < hi)))
        sets = member_sets(v, e, lk, cfg, match_kinds)
        label = datetime.fromtimestamp(lo / 1e6, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")
        wins.append(Window(label, sets))
        counts.append(len(sets))
        labels.append(
            (
                label,
                datetime.fromtimestamp(lo / 1e6, tz=UTC),
                datetime.fromtimestamp(hi / 1e6, tz=UTC),
            )
        )
    tracking = track(wins, threshold=threshold, initial=initial, death_after=death_after)
    return Timeline(tracking, labels, counts, [w.communities for w in wins])
