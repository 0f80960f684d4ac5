"""Spill-over: a trend born in one community showing up in others.

For every item (hashtag, sound, effect) with bursts in two or more communities, the
**origin** is the community whose burst started first (ties: the heavier burst). Every
other community whose burst starts ``0 … max_lag`` after it is a **target**, with:

* **when**: the target burst's start and the lag behind the origin;
* the item must be *new* to the target: its uses there before the burst (more than
  ``lead_hours`` ahead of it) are at most ``max_prior_share`` of the uses during it,
  and it must not be a platform-wide tag (*stop_tags*, e.g. ``fyp``) — otherwise a
  generic tag that bursts wherever anything bursts would "spill" everywhere;
* **through which creators**: creators who used the item in the target community
  from ``lead_bins`` before its burst up to its peak *and* belong to the origin
  community (home community there, or used the item there first): the carriers,
  earliest first. When none qualifies the earliest users in the target are listed
  with ``carrier = false``;
* **bridge hashtags**: hashtags (other than the item and *stop_tags* such as ``fyp``)
  on the item's early target videos that also occur on its origin videos, by count.

This is the "which community first, who carried it" reading of cross-community
diffusion (Weng, Menczer & Ahn, "Virality prediction and community structure in
social networks", Scientific Reports 3, 2013: early spread across communities
predicts virality; Romero, Meeder & Kleinberg, WWW 2011 on hashtag spread).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError

SPILL_COLUMNS = {
    "kind": pa.string(), "item": pa.string(), "origin": pa.string(), "target": pa.string(),
    "origin_start": pa.timestamp("us", tz="UTC"), "target_start": pa.timestamp("us", tz="UTC"),
    "lag_hours": pa.float64(), "target_weight": pa.float64(), "carriers": pa.list_(pa.string()),
    "carrier_found": pa.bool_(), "n_carriers": pa.int64(), "bridge_hashtags": pa.list_(pa.string()),
}  # fmt: skip


def _us(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(col.cast(pa.int64()).to_numpy(zero_copy_only=False), np.int64)


def detect_spillover(
    bursts: pa.Table,
    uses: pa.Table | None = None,
    creator_home: pa.Table | None = None,
    *,
    global_scope: str = "all",
    max_lag_hours: float = 14 * 24.0,
    lead_hours: float = 24.0,
    top_creators: int = 5,
    top_tags: int = 5,
    stop_tags: Iterable[str] = (),
    max_prior_share: float = 0.25,
) -> pa.Table:
    """Spill-overs from per-community *bursts* (``kind, item, scope, start, peak,
    weight``; the *global_scope* rows are ignored).

    *uses* (``kind, item, community_id, video_id, creator_id, created_at, hashtags``)
    and *creator_home* (``creator_id, community_id``) are optional; without them only
    which/when are filled.
    """
    need = ("kind", "item", "scope", "start", "peak", "end", "weight")
    miss = [c for c in need if c not in bursts.column_names]
    if miss:
        raise InputError(f"bursts lack columns {miss}", field=miss[0])
    if max_lag_hours < 0 or lead_hours < 0:
        raise InputError("must be >= 0", field="max_lag_hours")
    b = bursts.filter(pc.not_equal(bursts.column("scope"), global_scope))
    rows: dict[str, list] = {c: [] for c in SPILL_COLUMNS}
    if b.num_rows == 0:
        return pa.table(
            {
                c: pa.array(v, t)
                for (c, t), v in zip(SPILL_COLUMNS.items(), rows.values(), strict=True)
            }
        )
    kind = np.asarray(b.column("kind").to_pylist(), object)
    item = np.asarray(b.column("item").to_pylist(), object)
    scope = np.asarray(b.column("scope").to_pylist(), object)
    start, peak, end = _us(b.column("start")), _us(b.column("peak")), _us(b.column("end"))
    weight = np.asarray(b.column("weight").to_numpy(), np.float64)
    groups: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(zip(kind.tolist(), item.tolist(), strict=True)):
        groups.setdefault(key, []).append(i)
    home = _home_map(creator_home)
    by_item = _index_uses(uses)
    stop = set(stop_tags)
    max_lag = int(max_lag_hours * 3.6e9)
    lead = int(lead_hours * 3.6e9)
    for (k, it), idx in sorted(groups.items()):
        if len({scope[i] for i in idx}) < 2 or k == "community" or (k == "hashtag" and it in stop):
            continue
        o = min(idx, key=lambda i: (start[i], -weight[i], scope[i]))
        seen: set[str] = {scope[o]}
        for j in sorted(idx, key=lambda i: (start[i], scope[i])):
            if scope[j] in seen or not 0 <= start[j] - start[o] <= max_lag:
                continue
            if not _new_to(
                by_item.get((k, it)), scope[j], start[j] - lead, end[j], max_prior_share
            ):
                continue
            seen.add(scope[j])
            carriers, found, tags = _carriers(
                by_item.get((k, it)), home, scope[o], scope[j], start[j] - int(lead_hours * 3.6e9),
                peak[j], top_creators, top_tags, stop | {it},
            )  # fmt: skip
            for c, v in (("kind", k), ("item", it), ("origin", scope[o]), ("target", scope[j]),
                         ("origin_start", start[o]), ("target_start", start[j]),
                         ("lag_hours", (start[j] - start[o]) / 3.6e9), ("target_weight", weight[j]),
                         ("carriers", carriers), ("carrier_found", found),
                         ("n_carriers", len(carriers) if found else 0), ("bridge_hashtags", tags)):  # fmt: skip
                rows[c].append(v)
    cols = {}
    for c, t in SPILL_COLUMNS.items():
        if pa.types.is_timestamp(t):
            cols[c] = pa.array(rows[c], pa.int64()).cast(t)
        else:
            cols[c] = pa.array(rows[c], t)
    return pa.table(cols)


def _new_to(u: pa.Table | None, target: str, lo: int, hi: int, share: float) -> bool:
    """Whether the item's uses in *target* before *lo* are at most *share* of those in
    ``[lo, hi]`` (always true without a uses table)."""
    if u is None:
        return True
    comm = np.asarray(u.column("community_id").cast(pa.string()).to_pylist(), object)
    t = _us(u.column("created_at"))
    here = comm == target
    before = int(np.sum(here & (t < lo)))
    during = int(np.sum(here & (t >= lo) & (t <= hi)))
    return before <= share * during


def _home_map(creator_home: pa.Table | None) -> dict[str, str]:
    if creator_home is None or creator_home.num_rows == 0:
        return {}
    return dict(
        zip(
            creator_home.column("creator_id").cast(pa.string()).to_pylist(),
            creator_home.column("community_id").cast(pa.string()).to_pylist(),
            strict=True,
        )
    )


def _index_uses(uses: pa.Table | None) -> dict[tuple[str, str], pa.Table]:
    if uses is None or uses.num_rows == 0:
        return {}
    need = ("kind", "item", "community_id", "creator_id", "created_at")
    miss = [c for c in need if c not in uses.column_names]
    if miss:
        raise InputError(f"uses lack columns {miss}", field=miss[0])
    u = uses.sort_by([("kind", "ascending"), ("item", "ascending"), ("created_at", "ascending")])
    k = u.column("kind").to_pylist()
    it = u.column("item").to_pylist()
    out: dict[tuple[str, str], pa.Table] = {}
    s = 0
    for i in range(1, len(k) + 1):
        if i == len(k) or k[i] != k[s] or it[i] != it[s]:
            out[(k[s], it[s])] = u.slice(s, i - s)
            s = i
    return out


def _carriers(
    u: pa.Table | None, home: dict[str, str], origin: str, target: str, lo: int, hi: int,
    top_creators: int, top_tags: int, stop: set[str],
) -> tuple[list[str], bool, list[str]]:  # fmt: skip
    if u is None:
        return [], False, []
    comm = np.asarray(u.column("community_id").cast(pa.string()).to_pylist(), object)
    cre = u.column("creator_id").cast(pa.string()).to_pylist()
    t = _us(u.column("created_at"))
    in_origin = comm == origin
    origin_first: dict[str, int] = {}
    for c, tt in zip(
        np.asarray(cre, object)[in_origin].tolist(), t[in_origin].tolist(), strict=True
    ):
        origin_first.setdefault(c, tt)
    early = np.flatnonzero((comm == target) & (t >= lo) & (t <= hi))
    carriers: list[str] = []
    anyone: list[str] = []
    for i in early.tolist():
        c = cre[i]
        if c is None:
            continue
        if c not in anyone:
            anyone.append(c)
        from_origin = home.get(c) == origin or origin_first.get(c, hi + 1) <= t[i]
        if from_origin and c not in carriers:
            carriers.append(c)
    tags: list[str] = []
    if "hashtags" in u.column_names:
        ht = u.column("hashtags").to_pylist()
        origin_tags = {h for i in np.flatnonzero(in_origin).tolist() for h in (ht[i] or [])}
        cnt = Counter(
            h for i in early.tolist() for h in (ht[i] or []) if h in origin_tags and h not in stop
        )
        tags = [h for h, _ in sorted(cnt.items(), key=lambda kv: (-kv[1], kv[0]))[:top_tags]]
    if carriers:
        return carriers[:top_creators], True, tags
    return anyone[:top_creators], False, tags


def score_spillover(
    found: pa.Table, planted: Iterable[tuple[str, str, str]]
) -> tuple[float, float, int, int]:
    """Precision and recall of detected ``(item, origin, target)`` against *planted*
    triples; returns ``(precision, recall, n_found, n_planted)``. Origin must match."""
    truth = set(planted)
    got = set(
        zip(
            found.column("item").to_pylist(),
            found.column("origin").to_pylist(),
            found.column("target").to_pylist(),
            strict=True,
        )
    ) if found.num_rows else set()  # fmt: skip
    tp = len(got & truth)
    prec = tp / len(got) if got else 1.0
    rec = tp / len(truth) if truth else 1.0
    return prec, rec, len(got), len(truth)
