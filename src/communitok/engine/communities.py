"""Engine wiring for communities: load what detection needs from a store, run it, store
the results (with a run record), and read them back for the CLI / API.

Result tables (``store.put_result``):

=======================  ==============================================================
``communities``          id, name, top hashtags, views, videos, creators, viewers, …
``community_members``    member_kind, member_id, community_id, weight, is_primary
``community_items``      every item: kind, videos, spread, stop flag, community
``community_lingo``      community_id, rank, term, z, count, share
``community_profiles``   signature sounds/effects, top/rising creators, engagement, growth
``bridges``              community pairs with lift, p/q-values and bridging items
``community_resolution`` the resolution profile of the detection
``community_history``    per time window: local id → tracked community id, size
``community_events``     births, deaths, growth, shrink, merges, splits per window
=======================  ==============================================================

Community ids are stable: each run matches its communities to the previous run's (and to
the tracked ones) by Jaccard of their hashtags before writing.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..communities.items import CommunityConfig
from ..communities.pipeline import find_communities
from ..communities.profiles import SafetyHook
from ..communities.timeline import restrict, track_communities
from ..communities.tracking import stable_ids
from ..core.errors import InputError, NotFound
from ..core.schema import EVENT_COLUMNS
from ..store.base import Store, in_key_order

RESULTS = (
    "communities",
    "community_members",
    "community_items",
    "community_lingo",
    "community_profiles",
    "bridges",
    "community_resolution",
    "community_history",
    "community_events",
)
VIDEO_COLUMNS = (
    "video_id",
    "creator_id",
    "created_at",
    "description",
    "hashtags",
    "sound_id",
    "effect_ids",
    "view_count",
    "like_count",
    "transcript",
)
MATCH_KINDS = ("hashtag",)


@dataclass
class DetectionSummary:
    run_id: str
    communities: int
    bridges: int
    windows: int
    events: dict[str, int] = field(default_factory=dict)
    resolution: float | None = None
    stop_items: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _load(store: Store) -> tuple[pa.Table, pa.Table | None, pa.Table | None, pa.Table | None]:
    if store.count("videos") == 0:
        raise InputError("the store has no videos: ingest or simulate data first", field="videos")

    def read(table: str, columns: list[str]) -> pa.Table | None:
        # in key order: detection breaks ties by row order, which differs between backends
        return in_key_order(store.read(table, columns), table) if store.count(table) else None

    videos = read("videos", list(VIDEO_COLUMNS))
    assert videos is not None
    events = read("events", list(EVENT_COLUMNS))
    comments = read("comments", ["comment_id", "video_id", "text"])
    links = read("cocreation_links", ["child_video_id", "parent_video_id", "kind", "created_at"])
    return videos, events, comments, links


def _fingerprint(*tables: pa.Table | None) -> str:
    h = hashlib.blake2b(digest_size=12)
    for t in tables:
        h.update(b"-" if t is None else f"{t.num_rows}|{t.schema}".encode())
    return h.hexdigest()


def _previous(store: Store) -> dict[int, frozenset[str]]:
    if not store.has_result("community_members"):
        return {}
    m = store.read("community_members")
    m = m.filter(m["is_primary"])
    out: dict[int, set[str]] = {}
    for kind, mid, cid in zip(
        m["member_kind"].to_pylist(),
        m["member_id"].to_pylist(),
        m["community_id"].to_pylist(),
        strict=True,
    ):
        if kind in ("hashtag", "sound", "creator"):
            out.setdefault(int(cid), set()).add(f"{kind}:{mid}")
    return restrict({c: frozenset(s) for c, s in out.items()}, MATCH_KINDS)


def detect_communities(
    store: Store,
    *,
    config: CommunityConfig | None = None,
    window_days: float | None = 7.0,
    safety: pa.Table | SafetyHook | None = None,
) -> DetectionSummary:
    """Detect communities over everything stored, track them per *window_days* window
    (None: no tracking), store every result table; returns a summary.

    *safety* fills the profiles' ``safety_health`` (0 … 1, 1 = no flagged comments); by
    default it is computed from the moderation labels in force, when there are any
    (``engine.safety.refresh_profile_health``, which moderation passes also call)."""
    cfg = (config or CommunityConfig()).validate()
    if window_days is not None and not window_days > 0:
        raise InputError("must be > 0 or None", field="window_days")
    t0 = time.perf_counter()
    params = {
        k: (v if isinstance(v, int | float | str | bool | None) else str(v))
        for k, v in asdict(cfg).items()
    }
    params["window_days"] = window_days
    videos, events, comments, links = _load(store)
    run_id = store.start_run(
        "communities",
        params,
        seed=cfg.seed,
        input_fingerprint=_fingerprint(videos, events, comments, links),
    )
    try:
        prev = _previous(store)
        res = find_communities(videos, events, comments, links, config=cfg, safety=safety)
        tracked: dict[int, frozenset[str]] = {}
        next_id = max(prev) + 1 if prev else 0
        history = ev = None
        n_windows = 0
        if window_days is not None:
            tl = track_communities(
                videos,
                events,
                links,
                config=cfg,
                window_days=window_days,
                match_kinds=MATCH_KINDS,
                initial=prev or None,
            )
            tracked = tl.tracking.fronts
            next_id = max(next_id, tl.tracking.next_id)
            history, ev, n_windows = tl.tracking.history, tl.tracking.events, len(tl.windows)
        # previous run's ids first (stable from run to run), then the tracked ones
        current = restrict(res.member_sets(), MATCH_KINDS)
        mapping = stable_ids(current, [prev, tracked], next_id=next_id)
        res = res.relabel(mapping)
        tables = {
            "communities": res.communities,
            "community_members": res.members,
            "community_items": res.items,
            "community_lingo": res.lingo,
            "community_profiles": res.profiles,
            "bridges": res.bridges,
            "community_resolution": res.resolution,
        }
        if history is not None and ev is not None:
            tables["community_history"] = history
            tables["community_events"] = ev
        for name, table in tables.items():
            store.put_result(name, table, run_id=run_id)
        if safety is None and store.has_result("visibility"):
            from .safety import refresh_profile_health

            refresh_profile_health(store)
        counts: dict[str, int] = {}
        if ev is not None:
            for kind in ev["kind"].to_pylist():
                counts[kind] = counts.get(kind, 0) + 1
        det = res.detection.detector
        summary = DetectionSummary(
            run_id=run_id,
            communities=res.n_communities,
            bridges=res.bridges.num_rows,
            windows=n_windows,
            events=counts,
            resolution=float(det.resolution_) if det is not None and det.n_nodes_ else None,
            stop_items=list(res.detection.stop),
            seconds=time.perf_counter() - t0,
        )
    except BaseException as exc:
        store.finish_run(run_id, "failed", {"error": f"{type(exc).__name__}: {exc}"})
        raise
    store.finish_run(run_id, "ok", json.loads(json.dumps(summary.to_dict(), default=str)))
    return summary


def _result(store: Store, name: str) -> pa.Table:
    if not store.has_result(name):
        raise NotFound(f"no {name!r} result yet: run `communitok communities detect` first")
    return store.read(name)


def list_communities(store: Store, *, limit: int | None = None, sort: str = "views") -> pa.Table:
    """Stored communities, largest first by *sort* (views, videos, creators, viewers)."""
    if sort not in ("views", "videos", "creators", "viewers", "community_id"):
        raise InputError("sort by views, videos, creators, viewers or community_id", field="sort")
    if limit is not None and limit < 1:
        raise InputError("must be >= 1", field="limit")
    t = _result(store, "communities")
    order = "ascending" if sort == "community_id" else "descending"
    t = t.sort_by([(sort, order), ("community_id", "ascending")])
    return t.slice(0, limit) if limit else t


def _rows(t: pa.Table, col: str, value: int) -> pa.Table:
    return t.filter(pc.equal(t[col], value))


def show_community(store: Store, community_id: int, *, top_n: int = 10) -> dict[str, Any]:
    """One community: its row, profile, lingo, top members, bridges and history."""
    comms = _result(store, "communities")
    row = _rows(comms, "community_id", community_id)
    if row.num_rows == 0:
        raise NotFound(f"no community {community_id}")
    out: dict[str, Any] = {"community": row.to_pylist()[0]}
    prof = _rows(_result(store, "community_profiles"), "community_id", community_id)
    out["profile"] = prof.to_pylist()[0] if prof.num_rows else {}
    out["lingo"] = (
        _rows(_result(store, "community_lingo"), "community_id", community_id)
        .sort_by("rank")
        .to_pylist()
    )
    mem = _rows(_result(store, "community_members"), "community_id", community_id)
    out["members"] = {}
    for kind in ("hashtag", "sound", "creator", "viewer"):
        m = mem.filter(pc.equal(mem["member_kind"], kind)).sort_by(
            [("weight", "descending"), ("member_id", "ascending")]
        )
        out["members"][kind] = (
            m.slice(0, top_n).select(["member_id", "weight", "is_primary"]).to_pylist()
        )
    out["bridges"] = list_bridges(store, community_id=community_id).to_pylist()
    out["history"] = (
        _rows(store.read("community_history"), "community_id", community_id).to_pylist()
        if store.has_result("community_history")
        else []
    )
    return out


def list_bridges(
    store: Store, *, community_id: int | None = None, limit: int | None = None
) -> pa.Table:
    """Stored bridges (most significant first) with both communities' names."""
    b = _result(store, "bridges")
    if community_id is not None:
        b = b.filter(
            pc.or_(
                pc.equal(b["community_a"], community_id), pc.equal(b["community_b"], community_id)
            )
        )
    names = dict(
        zip(
            *(_result(store, "communities")[c].to_pylist() for c in ("community_id", "name")),
            strict=True,
        )
    )
    b = b.append_column(
        "name_a", pa.array([names.get(x) for x in b["community_a"].to_pylist()], pa.string())
    )
    b = b.append_column(
        "name_b", pa.array([names.get(x) for x in b["community_b"].to_pylist()], pa.string())
    )
    b = b.sort_by([("q_value", "ascending"), ("lift", "descending")])
    return b.slice(0, limit) if limit else b


def community_history(
    store: Store, *, community_id: int | None = None
) -> tuple[pa.Table, pa.Table]:
    """(history, events) of the tracked communities, optionally of one community."""
    hist = _result(store, "community_history")
    ev = _result(store, "community_events")
    if community_id is not None:
        hist = _rows(hist, "community_id", community_id)
        keep = [
            community_id in (ids or []) or community_id in (src or [])
            for ids, src in zip(
                ev["community_ids"].to_pylist(), ev["sources"].to_pylist(), strict=True
            )
        ]
        ev = ev.filter(pa.array(keep, pa.bool_()))
    return hist, ev


def _demo_section(eng: Any, truth: Any, console: Any) -> None:
    """Demo: detect communities, then show the largest with their lingo and bridges."""
    from rich.table import Table

    summary = detect_communities(eng.store)
    console.print(
        f"{summary.communities} communities (resolution {summary.resolution}), "
        f"{summary.bridges} bridges; {len(truth.communities)} were planted"
    )
    top = list_communities(eng.store, limit=8).to_pylist()
    lingo = eng.store.read("community_lingo") if eng.store.has_result("community_lingo") else None
    words: dict[int, list[str]] = {}
    if lingo is not None and lingo.num_rows:
        cols = lingo.column_names
        term = "term" if "term" in cols else cols[1]
        for r in lingo.to_pylist():
            words.setdefault(int(r["community_id"]), []).append(str(r[term]))
    t = Table(title="Top communities")
    for c in ("id", "name", "views", "creators", "viewers", "lingo"):
        t.add_column(c, justify="right" if c in {"views", "creators", "viewers"} else "left")
    for r in top:
        cid = int(r["community_id"])
        t.add_row(
            str(cid),
            r["name"],
            f"{r['views']:,}",
            f"{r['creators']:,}",
            f"{r['viewers']:,}",
            ", ".join(words.get(cid, [])[:5]),
        )
    console.print(t)
    for b in list_bridges(eng.store, limit=5).to_pylist():
        console.print(
            f"bridge {b['name_a']} ↔ {b['name_b']}: lift {b['lift']:.1f}"
            + (f" via #{', #'.join(b['hashtags'][:3])}" if b.get("hashtags") else "")
        )


def _register_demo() -> None:
    from .demo import section

    section("Communities")(_demo_section)


_register_demo()
