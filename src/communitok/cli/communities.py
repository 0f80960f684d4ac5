"""``communitok communities detect|list|show ID|bridges|history`` (a Typer sub-app).

Thin: each command opens the engine, calls its library twin in
:mod:`communitok.engine.communities` and renders a Rich table or JSON.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ..engine import communities as eng_comm
from .options import JsonOpt, StoreOpt, engine_for, sub_app
from .render import console, fmt_cell, print_json, rows_table

app = sub_app("Detect, list and inspect communities (CommunityToks), their bridges and history.")


@app.command()
def detect(
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    resolution: Annotated[
        str, typer.Option(help="'auto' (stability profile) or a relative resolution > 0.")
    ] = "auto",
    window_days: Annotated[
        float, typer.Option(help="Tracking window in days (0: no tracking).")
    ] = 7.0,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Detect communities over the stored data, track them over time, store the results."""
    from ..communities.items import CommunityConfig
    from ..core.errors import InputError

    try:
        res: float | str = resolution if resolution == "auto" else float(resolution)
    except ValueError:
        raise InputError("must be 'auto' or a number", field="resolution") from None
    cfg = CommunityConfig(seed=seed, resolution=res)
    with engine_for(store) as eng:
        summary = eng_comm.detect_communities(
            eng.store, config=cfg, window_days=window_days or None
        )
        top = eng_comm.list_communities(eng.store, limit=10).to_pylist()
        lingo = eng.store.read("community_lingo").to_pylist()
        bridges = eng_comm.list_bridges(eng.store, limit=5).to_pylist()
    if json_out:
        print_json(summary.to_dict())
        return
    console.print(
        f"[bold]{summary.communities}[/] communities, {summary.bridges} bridges, "
        f"{summary.windows} windows in {summary.seconds:.1f}s (run {summary.run_id})"
    )
    words: dict[int, list[str]] = {}
    for r in lingo:
        if r["rank"] <= 5:
            words.setdefault(r["community_id"], []).append(r["term"])
    for r in top:
        r["lingo"] = ", ".join(words.get(r["community_id"], []))
    console.print(
        rows_table(
            "Top communities",
            top,
            ["community_id", "name", "views", "creators", "viewers", "lingo"],
        )
    )
    if bridges:
        console.print(
            rows_table("Bridges", bridges, ["name_a", "name_b", "lift", "q_value", "hashtags"])
        )


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    sort: Annotated[str, typer.Option(help="views, videos, creators or viewers.")] = "views",
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Every detected community with its name and size."""
    with engine_for(store) as eng:
        rows = eng_comm.list_communities(eng.store, limit=limit, sort=sort).to_pylist()
    if json_out:
        print_json(rows)
        return
    console.print(
        rows_table(
            "Communities", rows, ["community_id", "name", "views", "videos", "creators", "viewers"]
        )
    )


@app.command()
def show(
    community_id: Annotated[int, typer.Argument(help="Community id (from `list`).")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """One community: profile, lingo, members, bridges and history."""
    with engine_for(store) as eng:
        view = eng_comm.show_community(eng.store, community_id)
    if json_out:
        print_json(view)
        return
    c, p = view["community"], view["profile"]
    console.print(
        f"[bold]#{c['community_id']} {c['name']}[/]  views {c['views']:,} · "
        f"creators {c['creators']:,} · viewers {c['viewers']:,}"
    )
    console.print("lingo: " + ", ".join(r["term"] for r in view["lingo"][:20]))
    for key in ("signature_sounds", "signature_effects", "top_creators", "rising_creators"):
        console.print(f"{key.replace('_', ' ')}: {fmt_cell(p.get(key))}")
    eng_keys = (
        "impressions",
        "completion_rate",
        "like_rate",
        "share_rate",
        "impression_growth",
        "video_growth",
        "safety_health",
    )
    console.print("engagement: " + ", ".join(f"{k} {fmt_cell(p.get(k))}" for k in eng_keys))
    for kind, rows in view["members"].items():
        if rows:
            console.print(
                f"{kind}s: " + ", ".join(f"{r['member_id']} ({r['weight']:.2f})" for r in rows)
            )
    if view["bridges"]:
        console.print(
            rows_table(
                "Bridges",
                view["bridges"],
                ["name_a", "name_b", "lift", "q_value", "hashtags", "creators"],
            )
        )


@app.command()
def bridges(
    community_id: Annotated[int | None, typer.Option("--community", help="Only this one.")] = None,
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Community pairs sharing viewers/creators/videos beyond chance, and what forms them."""
    with engine_for(store) as eng:
        rows = eng_comm.list_bridges(eng.store, community_id=community_id, limit=limit).to_pylist()
    if json_out:
        print_json(rows)
        return
    console.print(
        rows_table(
            "Bridges",
            rows,
            [
                "community_a",
                "name_a",
                "community_b",
                "name_b",
                "evidence",
                "lift",
                "q_value",
                "hashtags",
                "sounds",
                "creators",
            ],
        )
    )


@app.command()
def history(
    community_id: Annotated[int | None, typer.Option("--community", help="Only this one.")] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Births, deaths, growth, merges and splits of communities over time windows."""
    with engine_for(store) as eng:
        hist, ev = eng_comm.community_history(eng.store, community_id=community_id)
    if json_out:
        print_json({"history": hist.to_pylist(), "events": ev.to_pylist()})
        return
    console.print(
        rows_table(
            "Community events",
            ev.to_pylist(),
            ["window", "kind", "community_ids", "sources", "jaccard"],
        )
    )
