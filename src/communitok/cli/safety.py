"""``communitok safety …``: train, evaluate, classify, moderate, report, override, queue, health.

Each command is a thin wrapper of a library twin in :mod:`communitok.engine.safety` or
:mod:`communitok.safety`; ``--json`` prints machine-readable output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .options import JsonOpt, StoreOpt, engine_for, sub_app
from .render import console, print_json

app = sub_app(
    "Moderation (hate / offensive / spam), visibility labels, reports, review queue, "
    "community safety health."
)

DataOpt = Annotated[
    Path,
    typer.Option("--data", help="Root of the shared data sets (holds moderation/davidson …)."),
]
DEFAULT_DATA = Path("../shared/data")


def _fmt(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


@app.command()
def train(
    data: DataOpt = DEFAULT_DATA,
    out: Annotated[
        Path | None, typer.Option(help="Where to save (default: the model shipped in the package).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Split and training seed.")] = 42,
    json_out: JsonOpt = False,
) -> None:
    """Rebuild the moderation model from Davidson 2017 + YouTube spam (about 30 s)."""
    from ..engine.safety import train_model

    res = train_model(data, out=out, seed=seed)
    if json_out:
        print_json(res)
        return
    v = res["validation"]
    console.print(f"saved {res['version']} to {res['path']} ({res['size_bytes'] / 1e6:.2f} MB)")
    console.print(
        f"validation (out-of-fold): Davidson weighted F1 {v['davidson']['weighted_f1']:.3f}, "
        f"hate F1 {v['davidson']['hate_f1']:.3f}; YouTube spam F1 {v['youtube_spam']['f1']:.3f}"
    )
    console.print(f"thresholds: {v['thresholds']}")


@app.command()
def evaluate(
    data: DataOpt = DEFAULT_DATA,
    model: Annotated[Path | None, typer.Option(help="Model file (default: shipped).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Score the model on its held-out test split, beside the word-list baseline."""
    from rich.table import Table

    from ..engine.safety import evaluate_model

    res = evaluate_model(data, model_path=model)
    if json_out:
        print_json(res)
        return
    t = Table(title=f"Test split — model {res['model_version']}")
    for c in ("metric", "model", f"word list ({res['baseline']['backend']})"):
        t.add_column(c)
    for ds, keys in (
        ("davidson", ("weighted_f1", "hate_f1", "offensive_f1", "ok_f1")),
        ("davidson_toxic_binary", ("f1",)),
        ("youtube_spam", ("f1", "precision", "recall")),
    ):
        for k in keys:
            t.add_row(f"{ds} {k}", _fmt(res["test"][ds][k]), _fmt(res["baseline"][ds][k]))
    console.print(t)


@app.command()
def classify(
    text: Annotated[
        list[str] | None, typer.Argument(help="Comment text(s) to classify.", show_default=False)
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Also classify every line of this file (- for standard input); bytes that "
            "are not UTF-8 are replaced, never fatal.",
        ),
    ] = None,
    lingo: Annotated[
        list[str] | None, typer.Option("--lingo", help="A community lingo word or phrase.")
    ] = None,
    model: Annotated[Path | None, typer.Option(help="Model file (default: shipped).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Classify TEXT (and/or the lines of --file): category, visibility label, probabilities."""
    from ..core.errors import InputError
    from ..safety import CATEGORIES, ModerationModel, VisibilityPolicy, decide, load_default_model
    from ..safety.datasets import read_texts

    text = list(text or [])
    bad = 0
    if file is not None:
        lines, bad = read_texts(file)
        text += lines
    if not text:
        raise InputError("give at least one TEXT or a --file with lines", field="text")
    m = ModerationModel.load(model) if model else load_default_model()
    proba = m.predict_proba(text, lingo)
    cats = decide(proba, m.thresholds_)
    policy = VisibilityPolicy()
    rows = []
    for t, p, c in zip(text, proba, cats, strict=True):
        label, why = policy.label(c, float(p[CATEGORIES.index(c)]))
        rows.append(
            {
                "text": t,
                "category": c,
                "label": label,
                "reason": why,
                "proba": {k: round(float(v), 4) for k, v in zip(CATEGORIES, p, strict=True)},
                "model_version": m.version_,
            }
        )
    if json_out:
        print_json(rows)
        return
    for r in rows:
        probs = " ".join(f"{k}={v:.2f}" for k, v in r["proba"].items())
        console.print(f"[bold]{r['category']}[/] → {r['label']}  ({probs})  {r['text'][:80]!r}")
    if bad:
        console.print(f"{bad} line(s) held bytes that are not UTF-8: replaced by U+FFFD")


@app.command()
def moderate(
    store: StoreOpt = None,
    videos: Annotated[bool, typer.Option(help="Also classify video captions.")] = True,
    reclassify: Annotated[bool, typer.Option(help="Re-decide items this model did.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Classify stored comments (and video captions) and log visibility decisions."""
    from ..engine.safety import classify_stored

    with engine_for(store) as eng:
        out = [classify_stored(eng.store, item_kind="comment", reclassify=reclassify)]
        if videos:
            out.append(classify_stored(eng.store, item_kind="video", reclassify=reclassify))
    if json_out:
        print_json([s.to_dict() for s in out])
        return
    for s in out:
        console.print(
            f"{s.item_kind}s: {s.classified:,} classified, {s.skipped:,} already decided by "
            f"{s.model_version}; labels {s.by_label}"
        )


@app.command()
def report(
    item_kind: Annotated[str, typer.Argument(help="comment or video")],
    item_id: Annotated[str, typer.Argument(help="The reported item's id.")],
    reporter: Annotated[str, typer.Option(help="Reporting viewer id.")],
    reason: Annotated[str, typer.Option(help="hate, harassment, spam or other.")] = "other",
    store: StoreOpt = None,
) -> None:
    """Record a viewer report on a comment or video."""
    from ..core.timeutil import utcnow
    from ..engine.safety import add_reports

    with engine_for(store) as eng:
        n = add_reports(
            eng.store,
            [
                {
                    "item_kind": item_kind,
                    "item_id": item_id,
                    "reporter_id": reporter,
                    "reason": reason,
                    "created_at": utcnow(),
                }
            ],
        )
    console.print("report recorded" if n else "already reported by this viewer")


@app.command()
def override(
    item_kind: Annotated[str, typer.Argument(help="comment or video")],
    item_id: Annotated[str, typer.Argument(help="The item's id.")],
    label: Annotated[str, typer.Argument(help="visible, limited, hidden or needs_review")],
    reviewer: Annotated[str, typer.Option(help="Reviewer id.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the decision log).")],
    category: Annotated[
        str | None, typer.Option(help="The reviewer's category: hate, offensive, spam or ok.")
    ] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Set an item's visibility as a reviewer (logged; outranks the model)."""
    from ..engine.safety import override as do_override

    with engine_for(store) as eng:
        row = do_override(
            eng.store, item_kind, item_id, label, reviewer_id=reviewer, reason=reason,
            category=category,
        )  # fmt: skip
    if json_out:
        print_json(row)
        return
    console.print(f"{item_kind} {item_id} is now {row['label']} (reviewer {reviewer})")


@app.command()
def queue(
    store: StoreOpt = None,
    limit: Annotated[int, typer.Option(help="How many items to show.")] = 20,
    json_out: JsonOpt = False,
) -> None:
    """The review queue, highest severity × reach first."""
    from rich.table import Table

    from ..engine.safety import review_queue

    with engine_for(store) as eng:
        q = review_queue(eng.store, limit=limit)
    rows = q.to_pylist()
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("the review queue is empty (run `communitok safety moderate` first?)")
        return
    t = Table(title="Review queue (severity × reach)")
    for c in ("kind", "item", "label", "category", "severity", "reach", "priority", "why"):
        t.add_column(c)
    for r in rows:
        t.add_row(
            r["item_kind"], r["item_id"], r["label"], r["category"], f"{r['severity']:.2f}",
            f"{r['reach']:,.0f}", f"{r['priority']:,.1f}", r["why"][:60],
        )  # fmt: skip
    console.print(t)


@app.command()
def health(
    community: Annotated[str, typer.Argument(help="Community name (or hashtag).")],
    store: StoreOpt = None,
    period: Annotated[str, typer.Option(help="day or week.")] = "week",
    json_out: JsonOpt = False,
) -> None:
    """Safety health of COMMUNITY: flagged shares, reports per 1k views, trend."""
    from rich.table import Table

    from ..engine.safety import community_health_of

    with engine_for(store) as eng:
        rep = community_health_of(eng.store, community, period=period)
    summary = rep.summary.to_pylist()[0]
    periods = rep.by_period.to_pylist()
    if json_out:
        print_json({"summary": summary, "by_period": periods})
        return
    pct = lambda v: "–" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    console.print(
        f"[bold]{community}[/]: {summary['comments']:,} comments; flagged {pct(summary['share_flagged'])} "
        f"(hate {pct(summary['share_hate'])}, offensive {pct(summary['share_offensive'])}, "
        f"spam {pct(summary['share_spam'])}); reports/1k views "
        f"{_fmt(summary['reports_per_1k_views'])}; trend {summary['direction']} "
        f"({summary['trend_flagged_per_period']:+.4f} per {period})"
    )
    t = Table(title=f"By {period}")
    for c in ("period", "comments", "flagged", "hate", "offensive", "spam", "reports/1k views"):
        t.add_column(c)
    for r in periods:
        t.add_row(
            str(r["period_start"]), f"{r['comments']:,}", pct(r["share_flagged"]),
            pct(r["share_hate"]), pct(r["share_offensive"]), pct(r["share_spam"]),
            _fmt(r["reports_per_1k_views"]),
        )  # fmt: skip
    console.print(t)
