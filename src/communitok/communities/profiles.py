"""Community profiles: signature sounds and effects, top and rising creators, engagement,
growth and a safety-health hook.

* Signature items by **lift**: ``P(item | community videos) / P(item | all videos)``,
  among items on at least ``min_videos`` of the community's videos (support first, as in
  association-rule mining: Agrawal, Imieliński & Swami 1993).
* **Top creators**: most views on the community's videos. **Rising creators**: largest
  ratio of recent to previous activity (events when present, else views of new videos).
* **Engagement** from events on the community's videos: impressions, viewers, mean
  watch time, completion, like / share / comment rates per impression; views and likes
  per view from the video counts.
* **Growth**: videos and impressions in the recent window versus the one before.
* **Safety health**: ``None`` until a moderation model exists. Pass a table
  ``video_id, health`` (0 … 1, mean over the community's videos) or a callable
  ``(community_id, videos, comments) -> float | None``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError

SafetyHook = Callable[[int, pa.Table, pa.Table | None], float | None]


def _col(t: pa.Table, name: str, fill: object = 0) -> np.ndarray:
    if name not in t.column_names:
        return np.full(t.num_rows, fill)
    return pc.fill_null(t[name], fill).to_numpy(zero_copy_only=False)


def _ts(t: pa.Table, name: str) -> np.ndarray:
    if name not in t.column_names:
        return np.zeros(t.num_rows, dtype=np.int64)
    col = t[name].cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return pc.fill_null(col, 0).to_numpy(zero_copy_only=False)


def signature(
    codes: np.ndarray,
    names: np.ndarray,
    primary: np.ndarray,
    k: int,
    *,
    min_videos: int = 3,
    top_n: int = 5,
) -> list[list[dict]]:
    """Per community, items (coded per video row, -1 = none) ranked by lift."""
    ok = (codes >= 0) & (primary >= 0)
    n_all = len(codes)
    item_all = np.bincount(codes[codes >= 0], minlength=len(names))
    per_c = np.bincount(primary[primary >= 0], minlength=k)
    pair = primary[ok].astype(np.int64) * max(len(names), 1) + codes[ok]
    uniq, cnt = np.unique(pair, return_counts=True)
    out: list[list[dict]] = [[] for _ in range(k)]
    for key, c_in in zip(uniq, cnt, strict=True):
        c, item = divmod(int(key), max(len(names), 1))
        if c_in < min_videos:
            continue
        lift = (c_in / per_c[c]) / (item_all[item] / n_all)
        out[c].append({"item": str(names[item]), "lift": float(lift), "videos": int(c_in)})
    return [sorted(lst, key=lambda d: (-d["lift"], -d["videos"], d["item"]))[:top_n] for lst in out]


def _encode(arr: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    enc = pc.dictionary_encode(arr.cast(pa.string())).combine_chunks()
    return (
        pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64),
        np.asarray(enc.dictionary.to_pylist(), dtype=object),
    )


def profile_table(
    videos: pa.Table,
    primary: np.ndarray,
    k: int,
    *,
    events: pa.Table | None = None,
    comments: pa.Table | None = None,
    safety: pa.Table | SafetyHook | None = None,
    recent_days: float | None = None,
    top_n: int = 5,
    min_videos: int = 3,
) -> pa.Table:
    """One row per community; *primary* is each video row's community (-1: none)."""
    primary = np.asarray(primary, dtype=np.int64)
    if len(primary) != videos.num_rows:
        raise InputError("one community per video row is needed", field="primary")
    created = _ts(videos, "created_at")
    t_end = int(created.max()) if len(created) else 0
    if events is not None and events.num_rows:
        t_end = max(t_end, int(_ts(events, "ts").max()))
    t_start = int(created.min()) if len(created) else 0
    span = max(t_end - t_start, 1)
    win = int(recent_days * 86_400e6) if recent_days else max(span // 4, int(86_400e6))
    recent = created > t_end - win
    previous = (created > t_end - 2 * win) & ~recent
    views = _col(videos, "view_count").astype(float)
    likes = _col(videos, "like_count").astype(float)
    cre_codes, cre_names = _encode(videos["creator_id"])
    rows: dict[str, list] = {name: [] for name in PROFILE_SCHEMA.names}
    sig: dict[str, list[list[dict]]] = {}
    for kind, column in (("sounds", "sound_id"), ("effects", "effect_ids")):
        if column not in videos.column_names:
            sig[kind] = [[] for _ in range(k)]
            continue
        if pa.types.is_list(videos[column].type):
            flat = pc.list_flatten(videos[column])
            parent = pc.list_parent_indices(videos[column]).to_numpy(zero_copy_only=False)
            codes, names = _encode(flat)
            sig[kind] = signature(
                codes, names, primary[parent], k, min_videos=min_videos, top_n=top_n
            )
        else:
            codes, names = _encode(videos[column])
            sig[kind] = signature(codes, names, primary, k, min_videos=min_videos, top_n=top_n)
    ev = _event_stats(videos, primary, events, k, t_end, win, cre_codes)
    for c in range(k):
        mine = primary == c
        cv = np.bincount(cre_codes[mine], weights=views[mine], minlength=len(cre_names))
        top = np.lexsort((cre_names.astype(str), -cv))[:top_n]
        rows["top_creators"].append([str(cre_names[i]) for i in top if cv[i] > 0])
        rec_act, prev_act = ev["creator_recent"][c], ev["creator_previous"][c]
        if rec_act is None:
            rec_act = np.bincount(
                cre_codes[mine & recent], weights=views[mine & recent] + 1, minlength=len(cre_names)
            )
            prev_act = np.bincount(
                cre_codes[mine & previous],
                weights=views[mine & previous] + 1,
                minlength=len(cre_names),
            )
        score = (rec_act + 1.0) / (prev_act + 1.0)
        cand = np.flatnonzero(
            rec_act >= max(2.0, np.median(rec_act[rec_act > 0]) if (rec_act > 0).any() else 2.0)
        )
        order = cand[np.lexsort((cre_names[cand].astype(str), -rec_act[cand], -score[cand]))]
        rows["rising_creators"].append([str(cre_names[i]) for i in order[:top_n]])
        n_rec, n_prev = int((mine & recent).sum()), int((mine & previous).sum())
        rows["community_id"].append(c)
        rows["videos_recent"].append(n_rec)
        rows["videos_previous"].append(n_prev)
        rows["video_growth"].append((n_rec - n_prev) / n_prev if n_prev else None)
        v_sum = float(views[mine].sum())
        rows["views"].append(int(v_sum))
        rows["likes_per_view"].append(float(likes[mine].sum() / v_sum) if v_sum else None)
        rows["signature_sounds"].append(sig["sounds"][c])
        rows["signature_effects"].append(sig["effects"][c])
        for name in EVENT_FIELDS:
            rows[name].append(ev[name][c])
        rows["safety_health"].append(_safety(safety, c, videos, mine, comments))
    return pa.table(rows, schema=PROFILE_SCHEMA)


EVENT_FIELDS = (
    "impressions",
    "viewers",
    "mean_watch_time_s",
    "completion_rate",
    "like_rate",
    "share_rate",
    "comment_rate",
    "impressions_recent",
    "impressions_previous",
    "impression_growth",
)


def _event_stats(
    videos: pa.Table,
    primary: np.ndarray,
    events: pa.Table | None,
    k: int,
    t_end: int,
    win: int,
    cre_codes: np.ndarray,
) -> dict[str, list]:
    out: dict[str, list] = {f: [None] * k for f in EVENT_FIELDS}
    out["creator_recent"] = [None] * k
    out["creator_previous"] = [None] * k
    if events is None or events.num_rows == 0:
        return out
    vid = videos["video_id"].cast(pa.string())
    idx = pc.index_in(events["video_id"].cast(pa.string()), value_set=vid)
    row = pc.fill_null(idx, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    ok = row >= 0
    com = np.where(ok, primary[np.maximum(row, 0)], -1)
    ok &= com >= 0
    ts = _ts(events, "ts")
    viewer_codes, _ = _encode(events["viewer_id"])
    watch = _col(events, "watch_time_s", np.nan).astype(float)
    flags = {
        f: _col(events, f, False).astype(bool)
        for f in ("completed", "liked", "shared", "commented")
    }
    rec, prev = ts > t_end - win, (ts > t_end - 2 * win) & (ts <= t_end - win)
    n_cre = int(cre_codes.max()) + 1 if len(cre_codes) else 0
    ev_cre = np.where(ok, cre_codes[np.maximum(row, 0)], -1)
    for c in range(k):
        m = ok & (com == c)
        n = int(m.sum())
        out["impressions"][c] = n
        out["viewers"][c] = len(np.unique(viewer_codes[m]))
        w = watch[m]
        out["mean_watch_time_s"][c] = float(np.nanmean(w)) if n and np.isfinite(w).any() else None
        for name, flag in (
            ("completion_rate", "completed"),
            ("like_rate", "liked"),
            ("share_rate", "shared"),
            ("comment_rate", "commented"),
        ):
            out[name][c] = float(flags[flag][m].mean()) if n else None
        r, p = int((m & rec).sum()), int((m & prev).sum())
        out["impressions_recent"][c], out["impressions_previous"][c] = r, p
        out["impression_growth"][c] = (r - p) / p if p else None
        out["creator_recent"][c] = np.bincount(ev_cre[m & rec], minlength=n_cre).astype(float)
        out["creator_previous"][c] = np.bincount(ev_cre[m & prev], minlength=n_cre).astype(float)
    return out


def _safety(
    hook: pa.Table | SafetyHook | None,
    c: int,
    videos: pa.Table,
    mine: np.ndarray,
    comments: pa.Table | None,
) -> float | None:
    if hook is None:
        return None
    sub = videos.filter(pa.array(mine))
    if isinstance(hook, pa.Table):
        if not {"video_id", "health"} <= set(hook.column_names):
            raise InputError("safety table needs columns video_id, health", field="safety")
        h = hook.filter(
            pc.is_in(
                hook["video_id"].cast(pa.string()), value_set=sub["video_id"].cast(pa.string())
            )
        )
        vals = pc.drop_null(h["health"]).to_numpy(zero_copy_only=False).astype(float)
        return float(vals.mean()) if len(vals) else None
    if callable(hook):
        val = hook(c, sub, comments)
        return None if val is None else float(val)
    raise InputError("safety must be None, a table or a callable", field="safety")


_ITEM = pa.struct([("item", pa.string()), ("lift", pa.float64()), ("videos", pa.int64())])
PROFILE_SCHEMA = pa.schema(
    [
        ("community_id", pa.int64()),
        ("views", pa.int64()),
        ("likes_per_view", pa.float64()),
        ("videos_recent", pa.int64()),
        ("videos_previous", pa.int64()),
        ("video_growth", pa.float64()),
        ("signature_sounds", pa.list_(_ITEM)),
        ("signature_effects", pa.list_(_ITEM)),
        ("top_creators", pa.list_(pa.string())),
        ("rising_creators", pa.list_(pa.string())),
    ]
    + [
        (
            f,
            pa.int64()
            if f.startswith(("impressions", "viewers")) and "growth" not in f
            else pa.float64(),
        )
        for f in EVENT_FIELDS
    ]
    + [("safety_health", pa.float64())]
)
