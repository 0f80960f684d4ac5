"""Partner-facing insight figures: every one goes through the k-anonymity guard.

Each ``partner_*`` function takes the analytic result plus the person-level rows it
rests on (``viewer_id`` / ``user_id``), and publishes only groups that cover at least
``k`` distinct people (:func:`~communitok.safety.privacy.k_anonymous_aggregate`).
List-valued explanations travel as ``"; "``-joined strings so the guard can carry them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from ..safety.privacy import DEFAULT_K, PartnerAggregate, for_partners, k_anonymous_aggregate
from .campaign import CampaignReadout

SEP = "; "


def _flat(t: pa.Table) -> pa.Table:
    """List columns → ``"; "``-joined strings."""
    for i, f in enumerate(t.schema):
        if pa.types.is_list(f.type):
            vals = [SEP.join(map(str, x or [])) for x in t[f.name].to_pylist()]
            t = t.set_column(i, f.name, pa.array(vals, pa.string()))
    return t


def _attach(rows: pa.Table, people: pa.Table, key: str, person: str) -> pa.Table:
    if person not in people.column_names or key not in people.column_names:
        raise InputError(f"people rows need {key!r} and {person!r}", field="people")
    p = people.select([key, person]).drop_null()
    p = p.set_column(0, key, pc.cast(p[key], rows.schema.field(key).type))
    return _flat(rows).join(p, key, join_type="inner")


@for_partners
def partner_matches(
    matches: pa.Table, audience: pa.Table, *, k: int = DEFAULT_K
) -> PartnerAggregate:
    """Brief → community matches, only for communities whose audience has ≥ k viewers.

    *matches*: :func:`~communitok.insights.match.match_communities` output;
    *audience*: ``community_id, viewer_id``."""
    rows = _attach(matches, audience, "community_id", "viewer_id")
    text = ["name", "matched_hashtags", "matched_lingo", "matched_captions"]
    nums = ["score", "text_score", "size_pct", "growth_pct", "engagement_pct", "safety_pct",
            "region_share", "semantic_score"]  # fmt: skip
    return k_anonymous_aggregate(
        rows,
        by=["rank", "community_id"],
        person="viewer_id",
        metrics={c: (c, "max") for c in [*text, *nums]},
        k=k,
    )


@for_partners
def partner_overlap(overlap: pa.Table, shared: pa.Table, *, k: int = DEFAULT_K) -> PartnerAggregate:
    """Audience overlap pairs resting on ≥ k shared people.

    *overlap*: :func:`~communitok.insights.overlap.audience_overlap` output; *shared*:
    :func:`~communitok.insights.overlap.shared_people` rows (``a, b, person``)."""
    person = [c for c in shared.column_names if c not in ("a", "b")]
    if len(person) != 1:
        raise InputError("shared rows are (a, b, person)", field="shared")
    rows = shared.join(_flat(overlap), ["a", "b"], join_type="inner")
    extra = [c for c in overlap.column_names if c not in ("a", "b", person[0])]
    return k_anonymous_aggregate(
        rows, by=["a", "b"], person=person[0], metrics={c: (c, "max") for c in extra}, k=k
    )


@for_partners
def partner_ambassadors(
    scores: pa.Table, creator_viewers: pa.Table, *, k: int = DEFAULT_K
) -> PartnerAggregate:
    """Ambassador fit rows for creators whose audience has ≥ k distinct viewers.

    *scores*: :func:`~communitok.insights.ambassadors.ambassador_scores` output;
    *creator_viewers*: ``creator_id, viewer_id``."""
    rows = _attach(scores, creator_viewers, "creator_id", "viewer_id")
    skip = {"creator_id", "rank", "viewer_id", "flagged"}
    metrics = {c: (c, "max") for c in rows.column_names if c not in skip}
    rows = rows.set_column(
        rows.schema.get_field_index("flagged"), "flagged", pc.cast(rows["flagged"], pa.int64())
    )
    metrics["flagged"] = ("flagged", "max")
    return k_anonymous_aggregate(
        rows, by=["rank", "creator_id"], person="viewer_id", metrics=metrics, k=k
    )


@for_partners
def partner_campaign(
    outcomes: pa.Table, readout: CampaignReadout, *, k: int = DEFAULT_K
) -> PartnerAggregate:
    """Per-arm campaign figures (impressions, actions) and the lift with its interval,
    published only for arms of ≥ k viewers (the caller abstains when an arm is missing).

    *outcomes*: :func:`~communitok.insights.campaign.per_viewer_outcomes` rows."""
    n = outcomes.num_rows
    rows = outcomes
    for name in ("lift", "ci_low", "ci_high", "p_value"):
        v = getattr(readout, name)
        rows = rows.append_column(name, pa.array([v] * n, pa.float64()))
    return k_anonymous_aggregate(
        rows,
        by=["arm"],
        person="viewer_id",
        metrics={
            "impressions": ("impressions", "sum"),
            "actions": ("actions", "sum"),
            **{c: (c, "max") for c in ("lift", "ci_low", "ci_high", "p_value")},
        },
        k=k,
    )


@for_partners
def partner_lingo(examples: pa.Table, *, k: int = DEFAULT_K) -> PartnerAggregate:
    """Lingo words with example usages, for words used by ≥ k distinct commenters.

    *examples*: :func:`~communitok.insights.content.lingo_examples` rows."""
    return k_anonymous_aggregate(
        examples, by=["rank", "term"], person="user_id",
        metrics={"example": ("example", "max")}, k=k,
    )  # fmt: skip


@for_partners
def partner_posting_windows(events: pa.Table, *, k: int = DEFAULT_K) -> PartnerAggregate:
    """Community activity by UTC hour (impressions, actions per impression), hours with
    ≥ k distinct viewers. *events*: ``viewer_id, ts, liked, shared, commented, followed``."""
    acts = None
    for c in ("liked", "shared", "commented", "followed"):
        x = pc.cast(pc.fill_null(events[c], False), pa.float64())
        acts = x if acts is None else pc.add(acts, x)
    hour = pc.hour(events["ts"])
    a = acts.to_numpy(zero_copy_only=False) if acts is not None else np.zeros(0)
    h = hour.to_numpy(zero_copy_only=False).astype(np.int64)
    n = np.bincount(h, minlength=24).astype(float)
    mean = np.bincount(h, weights=a, minlength=24) / np.maximum(n, 1)
    var = np.bincount(h, weights=a * a, minlength=24) / np.maximum(n, 1) - mean**2
    se = np.sqrt(np.maximum(var, 0) / np.maximum(n - 1, 1))
    rows = pa.table(
        {
            "hour": hour,
            "viewer_id": events["viewer_id"],
            "actions": acts if acts is not None else pa.array([], pa.float64()),
            "one": pa.array([1] * events.num_rows, pa.int64()),
            # normal 95 % interval of the hour's mean actions per impression
            "api_low": pa.array(np.maximum(mean - 1.96 * se, 0)[h], pa.float64()),
            "api_high": pa.array((mean + 1.96 * se)[h], pa.float64()),
        }
    )
    return k_anonymous_aggregate(
        rows, by=["hour"], person="viewer_id",
        metrics={"impressions": ("one", "sum"), "actions_per_impression": ("actions", "mean"),
                 "api_low": ("api_low", "max"), "api_high": ("api_high", "max")},
        k=k,
    )  # fmt: skip


def _by_item(rows: pa.Table, people: pa.Table, person: str, k: int) -> PartnerAggregate:
    for c in ("kind", "item", person):
        if c not in people.column_names:
            raise InputError(f"people rows need {c!r}", field="people")
    if "rank" not in rows.column_names:
        raise InputError("rows need a 'rank' column (the published order)", field="rows")
    p = people.select(["kind", "item", person]).drop_null()
    t = _flat(rows).join(p, ["kind", "item"], join_type="inner")
    for c, f in zip(t.column_names, t.schema, strict=True):
        if pa.types.is_boolean(f.type):  # booleans carry through as 0 / 1
            t = t.set_column(t.column_names.index(c), c, pc.cast(t[c], pa.int64()))
    by = ["rank", "kind", "item"]
    metrics = {c: (c, "max") for c in rows.column_names if c not in by}
    return k_anonymous_aggregate(t, by=by, person=person, metrics=metrics, k=k)


@for_partners
def partner_items(activity: pa.Table, people: pa.Table, *, k: int = DEFAULT_K) -> PartnerAggregate:
    """Hashtag / sound / effect rows (``rank, kind, item`` plus figures, e.g.
    :func:`~communitok.insights.listen.item_activity`) for items that reached ≥ k
    distinct viewers in the community; *people*: ``kind, item, viewer_id``."""
    return _by_item(activity, people, "viewer_id", k)


@for_partners
def partner_trends(trends: pa.Table, people: pa.Table, *, k: int = DEFAULT_K) -> PartnerAggregate:
    """Current trends of a community (``rank, kind, item`` plus stage, timing and score
    from the trend results) for items that reached ≥ k distinct viewers in it."""
    return _by_item(trends, people, "viewer_id", k)


@for_partners
def partner_variants(
    viewers: pa.Table, readout: pa.Table, *, k: int = DEFAULT_K
) -> PartnerAggregate:
    """Per-variant experiment read-out rows (:func:`~communitok.insights.cuped.
    cuped_readout`) for variants of ≥ k viewers; *viewers*: ``variant, viewer_id``."""
    rows = viewers.select(["variant", "viewer_id"]).join(readout, "variant", join_type="inner")
    metrics = {c: (c, "max") for c in readout.column_names if c not in ("variant", "n_viewers")}
    return k_anonymous_aggregate(rows, by=["variant"], person="viewer_id", metrics=metrics, k=k)
