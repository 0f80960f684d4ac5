"""``communitok insights match|ambassadors|overlap|campaign|brief`` (a Typer sub-app).

Thin: each command opens the engine, calls its library twin in
:mod:`communitok.engine.insights` (partner figures pass the k-anonymity guard with
``settings.privacy_k``) and renders a Rich table or JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..core.errors import InputError
from ..core.settings import load_settings
from ..core.timeutil import parse_timestamp
from ..engine import insights as ei
from ..engine import open_engine
from ..insights import Brief
from .options import JsonOpt, StoreOpt, sub_app
from .render import console, print_json, rows_table

app = sub_app(
    "Partner insights: brief → communities, ambassadors, audience overlap, campaign "
    "read-out, content brief."
)

KOpt = Annotated[
    int | None, typer.Option("--k", help="Privacy threshold (default: settings.privacy_k).")
]


def _open(store: str | None, k: int | None):  # type: ignore[no-untyped-def]
    settings = load_settings(store=store)
    return open_engine(settings), (settings.privacy_k if k is None else k)


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(x.strip() for v in values or [] for x in v.split(",") if x.strip())


@app.command()
def match(
    brief: Annotated[str, typer.Argument(help="Brief text, or a path to a text file.")],
    hashtag: Annotated[list[str] | None, typer.Option("--hashtag", help="Seed hashtags.")] = None,
    region: Annotated[list[str] | None, typer.Option("--region", help="Target regions.")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Terms to avoid.")] = None,
    top: Annotated[int, typer.Option(help="How many communities.")] = 10,
    store: StoreOpt = None,
    k: KOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Communities that fit a brand brief, with the terms that matched."""
    p = Path(brief)
    text = p.read_text() if len(brief) < 4096 and p.is_file() else brief
    b = Brief(text, _split(hashtag), _split(region), _split(exclude))
    eng, kk = _open(store, k)
    with eng:
        rep = ei.match_brief(eng.store, b, k=kk, top_n=top)
    if json_out:
        print_json(rep.to_dict())
        return
    console.print(
        rows_table(
            f"Communities for the brief (k={rep.k}, {rep.suppressed} withheld under k)",
            rep.matches.to_pylist(),
            [
                "rank",
                "community_id",
                "name",
                "score",
                "text_score",
                "n_people",
                "matched_hashtags",
                "matched_lingo",
                "matched_captions",
            ],
        )
    )


@app.command()
def ambassadors(
    community: Annotated[int, typer.Argument(help="Community id.")],
    top: Annotated[int, typer.Option(help="How many creators.")] = 20,
    store: StoreOpt = None,
    k: KOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Creators ranked by fit for a community, each component shown, fraud flagged."""
    eng, kk = _open(store, k)
    with eng:
        agg = ei.ambassadors(eng.store, community, k=kk, top_n=top)
    rows = agg.to_pylist()
    if json_out:
        print_json({"k": agg.k, "suppressed": agg.suppressed, "ambassadors": rows})
        return
    console.print(
        rows_table(
            f"Ambassadors for community {community} (k={agg.k}, {agg.suppressed} withheld)",
            rows,
            [
                "rank",
                "creator_id",
                "fit",
                "reach",
                "audience_share",
                "engagement_per_view",
                "cocreation",
                "consistency",
                "growth",
                "brand_safety",
                "flags",
            ],
        )
    )


@app.command()
def overlap(
    kind: Annotated[
        str, typer.Option(help="community | creator-community | creator")
    ] = "community",
    community: Annotated[
        int | None, typer.Option(help="Restrict creators to this community.")
    ] = None,
    top: Annotated[int, typer.Option(help="Pairs to show.")] = 20,
    store: StoreOpt = None,
    k: KOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """True audience overlap (Jaccard, lift over independence)."""
    eng, kk = _open(store, k)
    with eng:
        agg = ei.overlap(eng.store, kind, community_id=community, k=kk)
    rows = agg.table.sort_by([("lift", "descending")]).slice(0, top).to_pylist()
    if json_out:
        print_json({"k": agg.k, "suppressed": agg.suppressed, "pairs": rows})
        return
    console.print(
        rows_table(
            f"Audience overlap ({kind}; k={agg.k}, {agg.suppressed} pairs withheld)",
            rows,
            ["a", "b", "size_a", "size_b", "shared", "jaccard", "lift"],
        )
    )


@app.command()
def campaign(
    hashtags: Annotated[str, typer.Argument(help="The campaign's hashtags, comma-separated.")],
    start: Annotated[str | None, typer.Option(help="Window start (ISO 8601, UTC).")] = None,
    end: Annotated[str | None, typer.Option(help="Window end (ISO 8601, UTC).")] = None,
    arms: Annotated[
        Path | None, typer.Option(help="CSV or Parquet of viewer_id, arm (treated|control).")
    ] = None,
    community: Annotated[int | None, typer.Option(help="Target community id.")] = None,
    store: StoreOpt = None,
    k: KOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Campaign lift (treated vs control) with a bootstrap confidence interval."""
    arm_table = None
    if arms is not None:
        if not arms.is_file():
            raise InputError(f"no file {arms}", field="arms")
        if arms.suffix == ".parquet":
            import pyarrow.parquet as pq

            arm_table = pq.readrows_table(arms)
        else:
            import pyarrow.csv as pcsv

            arm_table = pcsv.read_csv(arms)
    eng, kk = _open(store, k)
    with eng:
        rep = ei.campaign_readout(
            eng.store, list(_split([hashtags])), arms=arm_table, community_id=community, k=kk,
            start=parse_timestamp(start, field="start") if start else None,
            end=parse_timestamp(end, field="end") if end else None,
        )  # fmt: skip
    if json_out:
        print_json(rep.to_dict())
        return
    r = rep.readout
    if r.status != "ok":
        console.print(f"[yellow]abstains:[/] {r.reason}")
    else:
        console.print(
            f"lift [bold]{r.lift:+.1%}[/] ({r.confidence:.0%} CI {r.ci_low:+.1%} … "
            f"{r.ci_high:+.1%}, p≈{r.p_value:.3g}); {r.metric}; {r.method}"
        )
    console.print(
        rows_table(
            "Arms",
            rep.arms.to_pylist() if rep.arms else [],
            ["arm", "n_people", "impressions", "actions"],
        )
    )
    for n in rep.notes:
        console.print(f"[yellow]note:[/] {n}")


@app.command("brief")
def content_brief(
    community: Annotated[int, typer.Argument(help="Community id.")],
    store: StoreOpt = None,
    k: KOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Content brief: hashtags to use/avoid, sounds, effects, formats, hours, lingo."""
    eng, kk = _open(store, k)
    with eng:
        b = ei.content_brief(eng.store, community, k=kk)
    if json_out:
        print_json(b.to_dict())
        return
    d = b.to_dict()
    console.print(f"[bold]{d['community']['name']}[/] (community {community}, k={b.k})")
    console.print(rows_table("Use", d["use_hashtags"], ["hashtag", "weight", "reason"]))
    console.print(rows_table("Avoid", d["avoid_hashtags"], ["hashtag", "reason"]))
    console.print(rows_table("Sounds", d["sounds"], ["item", "lift", "videos"]))
    console.print(rows_table("Effects", d["effects"], ["item", "lift", "videos"]))
    console.print(rows_table("Co-creation formats", d["formats"], ["kind", "links", "per_video"]))
    hours = sorted(d["posting_windows"], key=lambda r: -r["impressions"])[:5]
    console.print(rows_table("Posting hours (UTC)", hours,
                         ["hour", "impressions", "n_people", "actions_per_impression"]))  # fmt: skip
    console.print(rows_table("Lingo", d["lingo"], ["rank", "term", "n_people", "example"]))
    for n in d["notes"]:
        console.print(f"[yellow]note:[/] {n}")
