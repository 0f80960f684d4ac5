"""``communitok partner match|listen|content-brief|ambassadors|overlap|campaign|plan|
experiment`` (a Typer sub-app); ``communitok insights …`` keeps the old names as aliases.

Thin: each command opens the engine, calls its library twin in
:mod:`communitok.engine.insights` (partner figures pass the k-anonymity guard with
``settings.privacy_k``) and renders Rich tables, or writes ``--format json|csv|html``
to ``--out FILE`` (or stdout) through :mod:`communitok.insights.export`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ..core.errors import InputError
from ..core.timeutil import parse_timestamp
from ..engine import insights as ei
from ..insights import Brief
from .options import JsonOpt, StoreOpt, sub_app
from .partner_render import FormatOpt, KOpt, OutOpt, _open, _split, emit
from .partner_stats import experiment, plan
from .render import console


def match(
    brief: Annotated[str, typer.Argument(help="Brief text, or a path to a text file.")],
    hashtag: Annotated[list[str] | None, typer.Option("--hashtag", help="Seed hashtags.")] = None,
    region: Annotated[list[str] | None, typer.Option("--region", help="Target regions.")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Terms to avoid.")] = None,
    top: Annotated[int, typer.Option(help="How many communities.")] = 10,
    matcher: Annotated[
        str, typer.Option(help="lexical | embedding | blend (embeddings: optional extra).")
    ] = "lexical",
    store: StoreOpt = None, k: KOpt = None, fmt: FormatOpt = "table", out: OutOpt = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Communities that fit a brand brief, with the terms that matched."""
    p = Path(brief)
    text = p.read_text(encoding="utf-8") if len(brief) < 4096 and p.is_file() else brief
    b = Brief(text, _split(hashtag), _split(region), _split(exclude))
    eng, kk = _open(store, k)
    with eng:
        rep = ei.match_brief(eng.store, b, k=kk, top_n=top, matcher=matcher)
    emit(rep.to_dict(), f"Communities for the brief (k={rep.k}, {rep.suppressed} withheld)",
         fmt, out, json_out)  # fmt: skip


def listen(
    community: Annotated[int, typer.Argument(help="Community id.")],
    target: Annotated[
        list[int] | None, typer.Option("--target", help="The brand's other target communities.")
    ] = None,
    recent_days: Annotated[float, typer.Option(help="Span of the recent period (days).")] = 7.0,
    end: Annotated[str | None, typer.Option(help="End of the recent period (ISO 8601).")] = None,
    store: StoreOpt = None, k: KOpt = None, fmt: FormatOpt = "table", out: OutOpt = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Listening report: top and rising hashtags, lingo, sounds, trends, bridges, overlap."""
    eng, kk = _open(store, k)
    with eng:
        rep = ei.listen(eng.store, community, targets=target or [], k=kk,
                        recent_days=recent_days,
                        end=parse_timestamp(end, field="end") if end else None)  # fmt: skip
    emit(rep.to_dict(), f"Listening report: community {community} (k={rep.k})", fmt, out,
         json_out)  # fmt: skip


def content_brief(
    community: Annotated[int, typer.Argument(help="Community id.")],
    store: StoreOpt = None, k: KOpt = None, fmt: FormatOpt = "table", out: OutOpt = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Content brief: hashtags to use/avoid, sounds, effects, formats, hours, lingo."""
    eng, kk = _open(store, k)
    with eng:
        b = ei.content_brief(eng.store, community, k=kk)
    emit(b.to_dict(), f"Content brief: community {community} (k={b.k})", fmt, out, json_out)


def ambassadors(
    community: Annotated[int, typer.Argument(help="Community id.")],
    top: Annotated[int, typer.Option(help="How many creators.")] = 20,
    store: StoreOpt = None, k: KOpt = None, fmt: FormatOpt = "table", out: OutOpt = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Creators ranked by fit for a community, each component shown, fraud flagged."""
    eng, kk = _open(store, k)
    with eng:
        agg = ei.ambassadors(eng.store, community, k=kk, top_n=top)
    rep = {"community_id": community, "k": agg.k, "suppressed": agg.suppressed,
           "ambassadors": agg.to_pylist()}  # fmt: skip
    emit(rep, f"Ambassadors for community {community} (k={agg.k}, {agg.suppressed} withheld)",
         fmt, out, json_out)  # fmt: skip


def overlap(
    kind: Annotated[
        str, typer.Option(help="community | creator-community | creator")
    ] = "community",
    community: Annotated[
        int | None, typer.Option(help="Restrict creators to this community.")
    ] = None,
    top: Annotated[int, typer.Option(help="Pairs to show.")] = 20,
    store: StoreOpt = None, k: KOpt = None, fmt: FormatOpt = "table", out: OutOpt = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """True audience overlap (Jaccard, lift over independence, with intervals)."""
    eng, kk = _open(store, k)
    with eng:
        agg = ei.overlap(eng.store, kind, community_id=community, k=kk)
    rows = agg.table.sort_by([("lift", "descending")]).slice(0, top).to_pylist()
    rep = {"kind": kind, "k": agg.k, "suppressed": agg.suppressed, "pairs": rows}
    emit(rep, f"Audience overlap ({kind}; k={agg.k}, {agg.suppressed} pairs withheld)", fmt,
         out, json_out)  # fmt: skip


def _window(window: str | None, start: str | None, end: str | None) -> tuple[Any, Any]:
    if window:
        if start or end:
            raise InputError("give --window or --start/--end, not both", field="window")
        a, sep, b = window.partition("/")
        if not sep or not a.strip() or not b.strip():
            raise InputError("--window is START/END (ISO 8601)", field="window")
        start, end = a, b
    return (parse_timestamp(start, field="start") if start else None,
            parse_timestamp(end, field="end") if end else None)  # fmt: skip


def _arms(path: Path | None) -> Any:
    if path is None:
        return None
    if not path.is_file():
        raise InputError(f"no file {path}", field="arms")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    import pyarrow.csv as pcsv

    return pcsv.read_csv(path)


def campaign(
    hashtags_arg: Annotated[
        str | None, typer.Argument(metavar="[HASHTAGS]", help="Campaign hashtags, comma-separated.")
    ] = None,
    hashtags: Annotated[str | None, typer.Option("--hashtags", help="Campaign hashtags.")] = None,
    videos: Annotated[
        str | None, typer.Option("--videos", help="Campaign video ids, comma-separated.")
    ] = None,
    window: Annotated[
        str | None, typer.Option("--window", help="START/END of the campaign (ISO 8601).")
    ] = None,
    start: Annotated[str | None, typer.Option(help="Window start (ISO 8601, UTC).")] = None,
    end: Annotated[str | None, typer.Option(help="Window end (ISO 8601, UTC).")] = None,
    arms: Annotated[
        Path | None, typer.Option(help="CSV or Parquet of viewer_id, arm (treated|control).")
    ] = None,
    design: Annotated[
        str, typer.Option(help="auto | randomised | did | synthetic | exposed")
    ] = "auto",
    community: Annotated[int | None, typer.Option(help="Target community id.")] = None,
    donor: Annotated[
        list[int] | None, typer.Option("--donor", help="Comparable communities (did/synthetic).")
    ] = None,
    n_boot: Annotated[int, typer.Option(help="Resamples: permutations of the randomised read-out; did / synthetic use n/5 bootstrap replicates per variance term.")] = 2000,
    store: StoreOpt = None, k: KOpt = None, fmt: FormatOpt = "table", out: OutOpt = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Campaign lift with a confidence interval: randomised arms, or the target community
    against comparable ones (difference-in-differences, synthetic control)."""
    tags = list(_split([hashtags_arg or "", hashtags or ""]))
    vids = list(_split([videos] if videos else []))
    t0, t1 = _window(window, start, end)
    eng, kk = _open(store, k)
    with eng:
        rep = ei.campaign_readout(
            eng.store, tags, video_ids=vids, arms=_arms(arms), design=design, start=t0, end=t1,
            community_id=community, donors=donor or None, k=kk, n_boot=n_boot,
        )  # fmt: skip
    r = rep.readout
    if fmt == "table" and not json_out:
        if r.status != "ok":
            console.print(f"[yellow]abstains:[/] {r.reason}")
        else:
            console.print(
                f"lift [bold]{r.lift:+.1%}[/] ({r.confidence:.0%} CI {r.ci_low:+.1%} … "
                f"{r.ci_high:+.1%}, p≈{r.p_value:.3g}); {r.metric}; {r.method}"
            )
    emit(rep.to_dict(), f"Campaign read-out ({rep.design}; k={kk})", fmt, out, json_out)


COMMANDS: dict[str, Callable[..., None]] = {
    "match": match,
    "listen": listen,
    "content-brief": content_brief,
    "ambassadors": ambassadors,
    "overlap": overlap,
    "campaign": campaign,
    "plan": plan,
    "experiment": experiment,
}


def build(help: str, names: dict[str, str] | None = None) -> typer.Typer:
    """A Typer app with the partner commands (*names*: command → function key)."""
    app = sub_app(help)
    for name, key in (names or {n: n for n in COMMANDS}).items():
        app.command(name)(COMMANDS[key])
    return app


app = build(
    "Partner insights: brief → communities, listening report, content brief, ambassadors, "
    "audience overlap, campaign read-outs; --format json|csv|html --out FILE on each."
)
