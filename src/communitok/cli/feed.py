"""``communitok feed show|train|evaluate|benchmark`` (and ``communitok feed USER``).

Thin wrappers over :mod:`communitok.engine.feed` and :mod:`communitok.engine.feed_eval`.
Each command trains the feed in process on the store (a recorded ``feed-train`` run;
seconds on the demo stores); a running ``communitok serve`` keeps its trained feed
instead. ``communitok feed USER`` is short for ``communitok feed show USER``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from .options import JsonOpt, StoreOpt, engine_for
from .render import console, print_json


class _DefaultShow(TyperGroup):
    """``feed USER …`` runs ``feed show USER …`` when USER is not a sub-command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_DefaultShow,
    help="The For You feed: a viewer's feed with why, offline evaluation, latency.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SeedOpt = Annotated[int | None, typer.Option(help="Seed (default: settings seed).")]


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 1 else f"{v:,.2f}"
    return str(v)


@app.command()
def show(
    user: Annotated[str, typer.Argument(help="Viewer id (unknown ids get a cold start).")],
    k: Annotated[int, typer.Option("--k", "-k", help="How many videos.")] = 20,
    interest: Annotated[
        list[str] | None,
        typer.Option(
            "--interest", help="Onboarding interest (community, name or hashtag); repeatable."
        ),
    ] = None,
    store: StoreOpt = None,
    seed: SeedOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """USER's feed, each video with why it is there (a preview: nothing is logged)."""
    from ..engine.feed import show_feed, train_feed

    with engine_for(store) as eng:
        train_feed(eng, seed=seed)
        feed = show_feed(eng, user, k, interests=interest)
    if json_out:
        print_json(feed.to_dict())
        return
    head = f"[bold]{user}[/] — variant {feed.variant}"
    if feed.cold_start:
        head += " — cold start" + (
            f" from interests {', '.join(feed.interests)}" if feed.interests else " (trending)"
        )
    console.print(head)
    if not feed.items:
        console.print("no videos to serve (the catalogue is empty or nothing is visible)")
        return
    t = Table()
    for c in ("#", "video", "creator", "source", "why"):
        t.add_column(c, justify="right" if c == "#" else "left")
    for i in feed.items:
        t.add_row(str(i.rank), i.video_id, i.creator_id or "", i.source, i.why)
    console.print(t)


@app.command()
def train(
    store: StoreOpt = None,
    window_days: Annotated[
        float | None, typer.Option(help="Train on the last N days of events only.")
    ] = None,
    seed: SeedOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Train the feed on the store and print what the recorded run saw."""
    from ..engine.feed import train_feed

    with engine_for(store) as eng:
        svc = train_feed(eng, window_days=window_days, seed=seed, reuse=False)
    info = svc.describe()
    if json_out:
        print_json(info)
        return
    tr = info["training"]
    console.print(
        f"run {tr['run_id']}: {info['videos']:,} videos, {info['viewers']:,} viewers, "
        f"{tr['inputs']['events']:,} events, {tr['inputs']['communities']} communities "
        f"({tr['inputs']['communities_source']}), {tr['inputs']['visibility_labels']} "
        f"visibility labels; {tr['seconds']:.1f} s"
    )
    for note in tr["notes"]:
        console.print(f"[yellow]note:[/] {note}")


def _report_table(rep: Any) -> Table:
    k = rep.k
    cols = {
        f"recall@{k}": f"R@{k}",
        f"ndcg@{k}": f"NDCG@{k}",
        "coverage": "cover",
        "intra_list_diversity": "ILD",
        "communities_per_list": "comms",
        "novelty_bits": "novelty",
        "n_users": "users",
    }
    cols = {c: h for c, h in cols.items() if any(c in m for m in rep.models.values())}
    t = Table(title=rep.protocol)
    t.add_column("model", no_wrap=True)
    for h in cols.values():
        t.add_column(h, justify="right", min_width=len(h))
    for name, m in rep.models.items():
        t.add_row(name, *(_fmt(m.get(c)) for c in cols))
    return t


@app.command()
def evaluate(
    store: StoreOpt = None,
    k: Annotated[int, typer.Option("--k", "-k", help="Cut-off K.")] = 20,
    test_share: Annotated[
        float, typer.Option(help="Share of the latest events held out (temporal split).")
    ] = 0.2,
    test_days: Annotated[
        float | None, typer.Option(help="Hold out the last N days instead of a share.")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(help="Evaluate on a published split instead: tiktok_rec (minutes)."),
    ] = None,
    data: Annotated[
        Path, typer.Option("--data", help="Folder of the data set (for --dataset).")
    ] = Path("../shared/data/tiktok_rec"),
    scorer: Annotated[
        str,
        typer.Option(
            help="tiktok_rec: gbdt / logistic (train + val for every model, scorer "
            "cross-fitted on val) or rrf (train only)."
        ),
    ] = "gbdt",
    scorer_days: Annotated[
        float | None,
        typer.Option(
            help="Stored events: also a pipeline whose learned scorer is cross-fitted on "
            "the last N days before the cut."
        ),
    ] = None,
    seed: SeedOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Offline Recall / NDCG@K, coverage, diversity: stored events or --dataset tiktok_rec.

    Compares most-popular, EASE and the pipeline on a temporal split of the stored
    events, or (--dataset tiktok_rec --data PATH) on the published TikTok split.
    """
    from ..engine.feed_eval import evaluate_stored, evaluate_tiktok_rec

    if dataset is not None:
        if dataset != "tiktok_rec":
            raise typer.BadParameter("only tiktok_rec is supported", param_hint="--dataset")
        rep = evaluate_tiktok_rec(data, k=k, scorer=scorer, seed=seed or 0)
    else:
        with engine_for(store) as eng:
            rep = evaluate_stored(
                eng,
                k=k,
                test_share=test_share,
                test_days=test_days,
                seed=seed,
                scorer_days=scorer_days,
            )
    if json_out:
        print_json(rep.to_dict())
        return
    console.print(_report_table(rep))
    console.print(", ".join(f"{a}: {b}" for a, b in rep.split.items()))
    for note in rep.notes:
        console.print(f"[dim]- {note}[/]")


@app.command()
def benchmark(
    store: StoreOpt = None,
    requests: Annotated[int, typer.Option(help="Feed requests to time.")] = 200,
    k: Annotated[int, typer.Option("--k", "-k", help="Feed length.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the viewer sample.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Also write the result as JSON here.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """In-process feed latency on the stored catalogue, and the real-time update delay.

    p50 / p99 of a top-K request beside a brute-force top-K timed in the same loop, the
    cost of one event and the delay until the next feed reflects it.
    """
    from ..engine.feed import train_feed
    from ..engine.feed_eval import benchmark_feed

    with engine_for(store) as eng:
        svc = train_feed(eng)
        res = benchmark_feed(svc, requests=requests, k=k, seed=seed)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=2))
    if json_out:
        print_json(res)
        return
    lat, rt = res["latency"], res["real_time"]
    r, b = lat["recommend"], lat["brute_force_top_k"]
    console.print(
        f"{res['requests']} requests, top-{res['k']} of {res['videos']:,} videos "
        f"({res['viewers']:,} viewers)"
    )
    console.print(
        f"feed:        p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms "
        f"({100 * lat['share_under_5ms']:.0f}% under 5 ms)"
    )
    console.print(
        f"brute force: p50 {b['p50_ms']:.3f} ms, p99 {b['p99_ms']:.3f} ms ({res['baseline']}); "
        f"ratio p50 {lat['ratio_p50']}×, p99 {lat['ratio_p99']}×"
    )
    console.print(
        f"event: observe {rt['observe_cost']['p50_ms']:.3f} ms (p50); next feed reflects it "
        f"after {rt['event_to_reflecting_feed']['p50_ms']:.2f} ms (p50), "
        f"{100 * rt['share_reflected']:.0f}% reflected; session "
        f"{res['session_bytes_after_one_event']} bytes"
    )
