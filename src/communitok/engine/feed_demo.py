"""Demo section "For You feed": train on the demo store, serve a simulated viewer with the
why of each item, then apply one event and show that the very next feed changed."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from .core import Engine
from .demo import section


def _pick_viewer(svc: Any, truth: Any) -> tuple[str, set[str]]:
    """A simulated viewer with a strong planted interest and some history."""
    interests: dict[str, list[tuple[float, str]]] = {}
    try:
        t = truth.table("viewer_interests")
        for v, c, w in zip(
            t["viewer_id"].to_pylist(),
            t["community_id"].to_pylist(),
            t["weight"].to_pylist(),
            strict=True,
        ):
            interests.setdefault(v, []).append((w, c))
    except Exception:  # a store without planted truth: any known viewer
        pass
    it = svc.control.ctx_.interactions
    hist = it.matrix.getnnz(axis=1)
    order = sorted(range(it.n_viewers), key=lambda r: (-int(hist[r]), r))
    for r in order:
        v = str(it.viewer_ids[r])
        if v in interests and max(interests[v])[0] >= 0.6:
            return v, {c for _, c in interests[v]}
    return (str(it.viewer_ids[order[0]]) if order else "demo-viewer"), set()


def _table(title: str, feed: Any, home: dict[str, str], planted: set[str]) -> Table:
    t = Table(title=title)
    for c in ("#", "video", "creator", "planted community", "why"):
        t.add_column(c)
    for i in feed.items:
        comm = home.get(i.video_id, "")
        mark = "[green]✓[/] " if comm and comm in planted else ""
        t.add_row(str(i.rank), i.video_id, i.creator_id or "", mark + comm, i.why)
    return t


@section("For You feed")
def demo_feed(engine: Engine, truth: Any, console: Console) -> None:
    from .feed import train_feed

    store = engine.store
    if not store.has_result("community_members"):
        try:
            from .communities import detect_communities
        except ImportError:
            console.print("(communities engine not installed: feed without communities)")
        else:
            console.print("detecting communities first (the feed uses their memberships)…")
            detect_communities(store, window_days=None)
    svc = train_feed(engine)
    info = svc.info
    console.print(
        f"trained on {info['inputs']['events']:,} events, {svc.n_videos:,} videos, "
        f"{info['inputs']['communities']} communities in {info['seconds']:.1f} s "
        f"(run {info['run_id']})"
    )
    try:
        vtruth = truth.table("video_truth")
        names = {c.id: c.name for c in truth.communities}
        home = {
            v: names.get(c, c)
            for v, c in zip(
                vtruth["video_id"].to_pylist(), vtruth["community_id"].to_pylist(), strict=True
            )
        }
    except Exception:
        home, names = {}, {}
    viewer, planted_ids = _pick_viewer(svc, truth)
    planted = {names.get(c, c) for c in planted_ids}
    k = 8
    first = svc.recommend(viewer, k, mark_served=False)
    console.print(
        _table(
            f"{viewer} (planted interests: {', '.join(sorted(planted)) or '?'}) — variant "
            f"{first.variant}",
            first,
            home,
            planted,
        )
    )
    if not first.items:
        console.print("empty feed: nothing to serve")
        return
    target = first.items[0]
    svc.observe({"viewer_id": viewer, "video_id": target.video_id, "not_interested": True})
    second = svc.recommend(viewer, k, mark_served=False)
    gone = all(i.creator_id != target.creator_id for i in second.items)
    console.print(
        f"event: {viewer} marks {target.video_id} by {target.creator_id} 'not interested' → "
        f"the next request has {'no' if gone else 'still'} videos by {target.creator_id}"
    )
    # a newcomer: cold start, then one long watch + like pivots the very next feed
    newcomer = "demo-newcomer"
    cold = svc.recommend(newcomer, k, mark_served=False)
    console.print(_table(f"{newcomer} (no history: cold start)", cold, home, set()))
    seen_comms = {home.get(v) for v in cold.video_ids}
    cat = svc.control.ctx_.catalogue
    other = next(
        (v for v in cat.video_ids.tolist() if home.get(v) and home[v] not in seen_comms), None
    )
    if other is None:
        return
    dur = float(cat.duration_s[cat.index[other]])
    svc.observe(
        {
            "viewer_id": newcomer,
            "video_id": other,
            "watch_time_s": dur if dur == dur else 60.0,
            "completed": True,
            "liked": True,
        }
    )
    after = svc.recommend(newcomer, k, mark_served=False)
    console.print(
        _table(
            f"event: {newcomer} watches {other} ({home[other]}) to the end and likes it → "
            "next request",
            after,
            home,
            {home[other]},
        )
    )
    n_same = sum(home.get(v) == home[other] for v in after.video_ids)
    because = sum(i.because_video_id == other for i in after.items)
    console.print(
        f"{n_same} of {len(after.items)} items are now from {home[other]}, {because} say "
        f"'… {other} …' (before the event: 0); no batch job ran in between"
    )
    n = svc.flush_exposures()
    console.print(f"{n} exposure rows appended to the feed_exposures result")
