"""Partner-facing insight figures: every one goes through the k-anonymity guard.

Each ``partner_*`` function takes the analytic result plus the person-level rows it
rests on (``viewer_id`` / ``user_id``), and publishes only groups that cover at least
``k`` distinct people (:func:`~communitok.safety.privacy.k_anonymous_aggregate`).
List-valued explanations travel as ``"; "``-joined strings so the guard can carry them.
"""

from __future__ import annotations

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
            "region_share"]  # fmt: skip
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
    rows = shared.join(overlap, ["a", "b"], join_type="inner")
    return k_anonymous_aggregate(
        rows,
        by=["a", "b"],
        person=person[0],
        metrics={c: (c, "max") for c in ("size_a", "size_b", "shared", "jaccard", "lift")},
        k=k,
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
    rows = pa.table(
        {
            "hour": pc.hour(events["ts"]),
            "viewer_id": events["viewer_id"],
            "actions": acts if acts is not None else pa.array([], pa.float64()),
            "one": pa.array([1] * events.num_rows, pa.int64()),
        }
    )
    return k_anonymous_aggregate(
        rows, by=["hour"], person="viewer_id",
        metrics={"impressions": ("one", "sum"), "actions_per_impression": ("actions", "mean")},
        k=k,
    )  # fmt: skip
