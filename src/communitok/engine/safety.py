"""Engine wiring for safety: classify stored comments, log decisions, reports, queue, health.

Functions take a Store-like object (``read``, ``query``, ``put_result``, ``has_result``,
``start_run`` / ``finish_run``; see :mod:`communitok.store.base`). Result tables written:

- ``moderation_decisions`` — the append-only decision log (model and reviewer rows, with
  model version, score and reason; :data:`communitok.safety.DECISION_SCHEMA`);
- ``visibility`` — the label in force per item, derived from the log and the reports; the
  feed filters on it (it holds no ranking score);
- ``safety_reports`` — viewer reports (:data:`communitok.safety.REPORT_SCHEMA`).

Community membership for health comes from, in order: the *membership* argument, the
``community_members`` result (keyed by ``comment_id``, ``video_id`` or ``creator_id``),
or each video's hashtags (a community named ``booktok`` = videos tagged #booktok).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError, NotFound
from ..core.settings import Settings
from ..core.timeutil import utcnow
from ..safety import (
    DECISION_SCHEMA,
    REPORT_SCHEMA,
    HealthReport,
    ModerationModel,
    PartnerAggregate,
    VisibilityPolicy,
    current_visibility,
    decide,
    for_partners,
    load_default_model,
    make_reports,
    model_decisions,
    partner_safety_health,
    reviewer_decision,
    safety_health,
)
from ..safety import review_queue as _review_queue
from ..store.base import Store

DECISIONS = "moderation_decisions"
VISIBILITY = "visibility"
REPORTS = "safety_reports"
MEMBERS = "community_members"
LINGO = "community_lingo"
PROFILES = "community_profiles"
_LINGO_COLUMNS = ("term", "lingo", "word", "phrase", "token")


@dataclass(frozen=True)
class ClassifySummary:
    """What one classification pass did."""

    run_id: str
    model_version: str
    item_kind: str
    classified: int
    skipped: int
    by_category: dict[str, int]
    by_label: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _read_result(store: Store, name: str, schema: pa.Schema) -> pa.Table:
    if not store.has_result(name):
        return schema.empty_table()
    t = store.read(name)
    return t.select(schema.names).cast(schema)


def decision_log(store: Store) -> pa.Table:
    """The whole decision log (empty when nothing was decided yet)."""
    return _read_result(store, DECISIONS, DECISION_SCHEMA)


def reports(store: Store) -> pa.Table:
    return _read_result(store, REPORTS, REPORT_SCHEMA)


def _append(store: Store, name: str, schema: pa.Schema, rows: pa.Table, run_id: str | None) -> None:
    store.append_result(name, rows.select(schema.names).cast(schema), run_id=run_id)


def refresh_visibility(store: Store, policy: VisibilityPolicy | None = None) -> pa.Table:
    """Recompute and store the ``visibility`` result from the log and the reports."""
    cur = current_visibility(decision_log(store), reports(store), policy)
    store.put_result(VISIBILITY, cur)
    return cur


def visibility(store: Store) -> pa.Table:
    """The label in force per item (``visibility`` result; empty if none)."""
    return _read_result(store, VISIBILITY, DECISION_SCHEMA)


def _texts(store: Store, item_kind: str) -> tuple[list[str], list[Any]]:
    if item_kind == "comment":
        t = store.read("comments", ["comment_id", "text"])
        return [str(x) for x in t["comment_id"].to_pylist()], t["text"].to_pylist()
    if item_kind == "video":
        t = store.read("videos", ["video_id", "description", "transcript"])
        texts = [
            " ".join(x for x in (d, s) if isinstance(x, str))
            for d, s in zip(t["description"].to_pylist(), t["transcript"].to_pylist(), strict=True)
        ]
        return [str(x) for x in t["video_id"].to_pylist()], texts
    raise InputError("must be comment or video", field="item_kind")


def store_lingo(store: Store) -> list[str]:
    """Community lingo from the ``community_lingo`` result (first of the columns
    ``term``, ``lingo``, ``word``, ``phrase``, ``token``), or ``[]`` when there is none."""
    if not store.has_result(LINGO):
        return []
    t = store.read(LINGO)
    col = next((c for c in _LINGO_COLUMNS if c in t.column_names), None)
    if col is None:
        return []
    return sorted({x for x in t[col].to_pylist() if isinstance(x, str) and x.strip()})


def classify_stored(
    store: Store,
    *,
    item_kind: str = "comment",
    model: ModerationModel | None = None,
    lingo: Iterable[str] | None = None,
    policy: VisibilityPolicy | None = None,
    reclassify: bool = False,
    batch_rows: int = 50_000,
    now: datetime | None = None,
) -> ClassifySummary:
    """Classify stored comments (or video captions + transcripts) not yet decided by this
    model version; append decisions to the log; refresh ``visibility``. One recorded run.

    *lingo* defaults to :func:`store_lingo` (the communities' own words, masked so that
    they are not flagged for being unusual)."""
    model = model or load_default_model()
    if batch_rows < 1:
        raise InputError("must be >= 1", field="batch_rows")
    lingo = sorted(set(lingo)) if lingo is not None else store_lingo(store)
    run_id = store.start_run(
        f"safety-classify-{item_kind}",
        {
            "model_version": model.version_,
            "reclassify": reclassify,
            "lingo_words": len(lingo or []),
        },
    )
    try:
        ids, texts = _texts(store, item_kind)
        log = decision_log(store)
        done: set[str] = set()
        if not reclassify and log.num_rows:
            mine = log.filter(
                pc.and_(
                    pc.equal(log["model_version"], model.version_),
                    pc.equal(log["item_kind"], item_kind),
                )
            )
            done = set(mine["item_id"].to_pylist())
        todo = [i for i, x in enumerate(ids) if x not in done]
        at = now or utcnow()
        parts = []
        for s in range(0, len(todo), batch_rows):
            idx = todo[s : s + batch_rows]
            batch = [texts[i] for i in idx]
            proba = model.predict_proba(batch, lingo)
            cats = decide(proba, model.thresholds_)
            parts.append(
                model_decisions(
                    [ids[i] for i in idx],
                    proba,
                    list(cats),
                    model_version=model.version_,
                    decided_at=at,
                    item_kind=item_kind,
                    policy=policy,
                )
            )
        new = pa.concat_tables(parts) if parts else DECISION_SCHEMA.empty_table()
        if new.num_rows:
            _append(store, DECISIONS, DECISION_SCHEMA, new, run_id)
        refresh_visibility(store, policy)
        if item_kind == "comment":
            refresh_profile_health(store)
        count = lambda col: {  # noqa: E731
            str(k): int(v)
            for k, v in zip(
                *np.unique(np.asarray(new[col].to_pylist(), dtype=str), return_counts=True),
                strict=True,
            )
        }
        summary = ClassifySummary(
            run_id, model.version_, item_kind, new.num_rows, len(ids) - len(todo),
            count("category"), count("label"),
        )  # fmt: skip
    except BaseException as exc:
        store.finish_run(run_id, "failed", {"error": f"{type(exc).__name__}: {exc}"})
        raise
    store.finish_run(run_id, "ok", summary.to_dict())
    return summary


def override(
    store: Store,
    item_kind: str,
    item_id: str,
    label: str,
    *,
    reviewer_id: str,
    reason: str,
    category: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Log a reviewer decision (it outranks the model) and return the label in force."""
    row = reviewer_decision(
        item_kind, item_id, label, reviewer_id=reviewer_id, reason=reason,
        decided_at=now or utcnow(), category=category,
    )  # fmt: skip
    _append(store, DECISIONS, DECISION_SCHEMA, row, None)
    cur = refresh_visibility(store)
    hit = cur.filter(
        pc.and_(pc.equal(cur["item_kind"], item_kind), pc.equal(cur["item_id"], item_id))
    )
    return hit.to_pylist()[0]


def add_reports(store: Store, rows: Iterable[Mapping[str, object]]) -> int:
    """Record viewer reports (a viewer's repeat report on an item is ignored)."""
    new = make_reports(rows)
    seen = set(reports(store)["report_id"].to_pylist())
    keep = []
    for i, r in enumerate(new["report_id"].to_pylist()):
        if r not in seen:  # also drops a repeat within this batch
            seen.add(r)
            keep.append(i)
    new = new.take(pa.array(keep, pa.int64()))
    if new.num_rows:
        _append(store, REPORTS, REPORT_SCHEMA, new, None)
        refresh_visibility(store)
    return new.num_rows


def _video_views(store: Store) -> dict[str, float]:
    v = store.read("videos", ["video_id", "view_count"])
    views = {
        str(i): float(n)
        for i, n in zip(v["video_id"].to_pylist(), v["view_count"].to_pylist(), strict=True)
        if n is not None
    }
    if len(views) < v.num_rows:
        ev = store.query("SELECT video_id, count(*) AS n FROM events GROUP BY video_id")
        for i, n in zip(ev["video_id"].to_pylist(), ev["n"].to_pylist(), strict=True):
            views.setdefault(str(i), float(n))
    return views


def review_queue(store: Store, *, limit: int | None = 50) -> pa.Table:
    """Items to review, ordered by severity × reach (reach = views of the item's video)."""
    cur = visibility(store)
    rep = reports(store)
    views = _video_views(store)
    reach: dict[tuple[str, str], float] = {("video", k): v for k, v in views.items()}
    c = store.read("comments", ["comment_id", "video_id"])
    for cid, vid in zip(c["comment_id"].to_pylist(), c["video_id"].to_pylist(), strict=True):
        reach[("comment", str(cid))] = views.get(str(vid), 0.0)
    return _review_queue(cur, rep, reach, limit=limit)


def community_membership(store: Store, membership: pa.Table | None = None) -> pa.Table:
    """``video_id``/``comment_id`` → ``community`` from the argument, the
    ``community_members`` result, or video hashtags (in that order)."""
    m = membership
    if m is None and store.has_result(MEMBERS):
        m = store.read(MEMBERS)
    if m is not None:
        if "creator_id" in m.column_names and not {"video_id", "comment_id"} & set(m.column_names):
            comm = next(c for c in ("community", "community_id", "name") if c in m.column_names)
            v = store.read("videos", ["video_id", "creator_id"])
            m = v.join(m.select(["creator_id", comm]), "creator_id").select(["video_id", comm])
        return m
    v = store.read("videos", ["video_id", "hashtags"])
    tags = v["hashtags"].combine_chunks() if v.num_rows else pa.array([], pa.list_(pa.string()))
    parents = pc.list_parent_indices(tags)
    return pa.table(
        {
            "video_id": pc.take(v["video_id"], parents),
            "community": pc.utf8_lower(pc.list_flatten(tags)),
        }
    )


def community_health(
    store: Store, *, membership: pa.Table | None = None, period: str = "week"
) -> HealthReport:
    """Safety health of every community (see :func:`communitok.safety.safety_health`)."""
    comments = store.read("comments", ["comment_id", "video_id", "created_at"])
    labels = visibility(store)
    labels = labels.filter(pc.equal(labels["item_kind"], "comment"))
    # events are bucketed by UTC day (portable SQL, no session time zone); safety_health
    # folds days into weeks
    views = store.query(
        "SELECT video_id, period_start, count(*) AS views FROM (SELECT video_id, "
        "CAST(ts AT TIME ZONE 'UTC' AS DATE) AS period_start FROM events) d "
        "GROUP BY video_id, period_start"
    )
    if views.num_rows == 0:
        v = store.read("videos", ["video_id", "view_count"])
        views = pa.table({"video_id": v["video_id"], "views": pc.fill_null(v["view_count"], 0)})
    return safety_health(
        comments,
        labels,
        community_membership(store, membership),
        views=views,
        reports=reports(store),
        period=period,
    )


def refresh_profile_health(store: Store) -> int:
    """Write each community's safety health (1 − share of its comments flagged, from the
    labels in force) into the ``community_profiles`` result; returns the number of
    communities that got a value. A no-op without profiles or comments. Moderation
    passes call it; a single reviewer override does not (the next pass picks it up)."""
    if not store.has_result(PROFILES) or store.count("comments") == 0:
        return 0
    prof = store.read(PROFILES)
    if "safety_health" not in prof.column_names or "community_id" not in prof.column_names:
        return 0
    summary = community_health(store).summary
    share = {
        str(c): s
        for c, s in zip(
            summary["community"].to_pylist(), summary["share_flagged"].to_pylist(), strict=True
        )
        if s is not None
    }
    vals = [
        None if share.get(str(c)) is None else 1.0 - float(share[str(c)])
        for c in prof["community_id"].to_pylist()
    ]
    i = prof.column_names.index("safety_health")
    store.put_result(PROFILES, prof.set_column(i, "safety_health", pa.array(vals, pa.float64())))
    return sum(v is not None for v in vals)


def community_health_of(store: Store, community: str, **kw: Any) -> HealthReport:
    """:func:`community_health` for one community; :class:`NotFound` if it has no comments."""
    rep = community_health(store, **kw).community(community)
    if rep.summary.num_rows == 0:
        raise NotFound(f"no comments found for community {community!r}")
    return rep


@for_partners
def partner_community_safety(
    store: Store, *, settings: Settings | None = None, membership: pa.Table | None = None
) -> PartnerAggregate:
    """Partner view of community safety: communities with fewer than ``privacy_k``
    distinct commenters are suppressed (k from *settings*)."""
    k = (settings or Settings()).privacy_k
    comments = store.read("comments", ["comment_id", "video_id", "user_id"])
    labels = visibility(store)
    labels = labels.filter(pc.equal(labels["item_kind"], "comment"))
    return partner_safety_health(comments, labels, community_membership(store, membership), k=k)


def train_model(
    data: str | Path, *, out: str | Path | None = None, seed: int = 42
) -> dict[str, Any]:
    """Rebuild the moderation model from ``data`` (the ``../shared/data`` root) and save it
    (default: the shipped file inside the package). Returns version, path, validation."""
    from ..safety.datasets import load_davidson, load_youtube_spam
    from ..safety.model import default_model_path
    from ..safety.training import train_default

    d, y = load_davidson(data), load_youtube_spam(data)
    res = train_default(d, y, seed=seed)
    path = Path(out) if out is not None else default_model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    res.model.save(path, {"data": {"davidson_rows": len(d), "youtube_rows": len(y)}})
    load_default_model.cache_clear()
    return {
        "version": res.model.version_,
        "path": str(path),
        "size_bytes": path.stat().st_size,
        "validation": res.validation,
    }


def evaluate_model(data: str | Path, *, model_path: str | Path | None = None) -> dict[str, Any]:
    """Test-set numbers of a saved model on the held-out split it was trained beside,
    with the word-list baseline scored on the same rows."""
    from ..safety import WordListFilter
    from ..safety.datasets import load_davidson, load_youtube_spam
    from ..safety.training import binary_metrics, davidson_metrics, evaluate, stratified_split

    model = ModerationModel.load(model_path) if model_path else load_default_model()
    proto: dict[str, Any] = model.metadata_.get("protocol") or {"seed": 42, "test_size": 0.2}
    d, y = load_davidson(data), load_youtube_spam(data)
    _, dt = stratified_split(d.labels, proto["test_size"], proto["seed"])
    _, yt = stratified_split(y.labels, proto["test_size"], proto["seed"])
    d_test, y_test = d.subset(dt), y.subset(yt)
    base = WordListFilter()
    bd, by = base.predict(list(d_test.texts)), base.predict(list(y_test.texts))
    return {
        "model_version": model.version_,
        "protocol": proto,
        "test": evaluate(model, d_test, y_test),
        "baseline": {
            "backend": base.backend_,
            "davidson": davidson_metrics(bd, d_test.labels),
            "davidson_toxic_binary": binary_metrics(bd != "ok", d_test.labels != "ok"),
            "youtube_spam": binary_metrics(by != "ok", y_test.labels == "spam"),
        },
        "validation": model.metadata_.get("validation"),
    }


def _demo_section(eng: Any, truth: Any, console: Any) -> None:
    """Demo: moderate every stored comment and caption, then show the review queue and the
    communities whose comments moderation flags most."""
    from rich.table import Table

    for kind in ("comment", "video"):
        s = classify_stored(eng.store, item_kind=kind)
        labels = ", ".join(f"{k} {v:,}" for k, v in sorted(s.by_label.items()))
        console.print(f"moderated {s.classified:,} {kind}s ({s.model_version}): {labels}")
    q = review_queue(eng.store, limit=5)
    if q.num_rows == 0:
        console.print(
            "Review queue (severity × reach): empty, no report or decision waits for a reviewer"
        )
    else:
        t = Table(title="Review queue (severity × reach)")
        for c in ("item", "label", "category", "priority", "why"):
            t.add_column(c)
        for r in q.to_pylist():
            t.add_row(f"{r['item_kind']} {r['item_id']}", r["label"], r["category"] or "",
                      f"{r['priority']:,.1f}", r["why"] or "")  # fmt: skip
        console.print(t)
    if eng.store.count("comments"):
        summary = community_health(eng.store).summary
        worst = sorted(
            (r for r in summary.to_pylist() if r["comments"] >= 20),
            key=lambda r: -(r["share_flagged"] or 0.0),
        )[:3]
        for r in worst:
            console.print(
                f"community {r['community']}: {r['share_flagged']:.1%} of {r['comments']:,} "
                f"comments flagged, {r['direction']}"
            )


try:  # register with the demo when it is available
    from .demo import section

    section("Safety")(_demo_section)
except ImportError:  # pragma: no cover
    pass
