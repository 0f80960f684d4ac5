"""Content brief for one community: what to post, with what, when, in whose words.

Pure functions over tables the engine loads:

* :func:`hashtag_advice` — hashtags to use (the community's own, by membership weight)
  and to avoid (platform-wide filler that spreads over every community, hashtags that
  belong to another community, and hashtags whose videos draw flagged comments);
* :func:`cocreation_formats` — duet / stitch / sound / effect reuse per community video;
* :func:`posting_windows` — hours of the day (UTC) with the most community activity and
  the engagement per impression at those hours;
* :func:`lingo_examples` — each lingo word with example comments that use it, from
  comments that passed moderation only, and how many distinct commenters use it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from ..core.schema import COCREATION_KINDS

#: @handles in example comments are masked: an example shows the word, not the people
_MENTION = re.compile(r"@[\w.]+")


def hashtag_advice(
    members: pa.Table,
    community_id: int,
    *,
    stop_tags: set[str] | frozenset[str] = frozenset(),
    flagged_share: dict[str, float] | None = None,
    max_flagged_share: float = 0.1,
    top_n: int = 10,
) -> tuple[pa.Table, pa.Table]:
    """(use, avoid) tables: ``hashtag, weight, reason``.

    *members*: ``community_members`` rows (hashtag kind used); *stop_tags*: filler tags
    found in every community; *flagged_share*: per hashtag, share of flagged comments on
    its videos."""
    m = members.filter(pc.equal(members["member_kind"], "hashtag"))
    own = m.filter(pc.equal(m["community_id"], community_id))
    if own.num_rows == 0:
        raise InputError(f"community {community_id} has no hashtags", field="community")
    flagged_share = flagged_share or {}
    use, avoid = [], []
    for tag, w in sorted(
        zip(own["member_id"].to_pylist(), own["weight"].to_pylist(), strict=True),
        key=lambda x: (-(x[1] or 0), x[0]),
    ):
        fs = flagged_share.get(tag, 0.0)
        if tag in stop_tags:
            avoid.append((tag, w, "platform-wide filler: reaches everyone, signals no community"))
        elif fs > max_flagged_share:
            avoid.append((tag, w, f"{fs:.0%} of comments on its videos are flagged"))
        else:
            use.append((tag, w, "community hashtag" + (" (primary)" if w and w >= 0.5 else "")))
    for tag in sorted(stop_tags):
        if tag not in {a[0] for a in avoid}:
            avoid.append((tag, 0.0, "platform-wide filler: reaches everyone, signals no community"))

    def table(rows: list[tuple[str, float, str]]) -> pa.Table:
        return pa.table(
            {
                "hashtag": pa.array([r[0] for r in rows], pa.string()),
                "weight": pa.array([float(r[1] or 0) for r in rows], pa.float64()),
                "reason": pa.array([r[2] for r in rows], pa.string()),
            }
        )

    return table(use[:top_n]), table(avoid[:top_n])


def cocreation_formats(community_videos: pa.Array | list[str], links: pa.Table | None) -> pa.Table:
    """Per co-creation kind: children sparked per community video (``kind, links, per_video``)."""
    vids = set(
        community_videos.to_pylist() if isinstance(community_videos, pa.Array) else community_videos
    )
    n = max(1, len(vids))
    counts: Counter[str] = Counter()
    if links is not None and links.num_rows:
        for p, k in zip(
            links["parent_video_id"].to_pylist(), links["kind"].to_pylist(), strict=True
        ):
            if p in vids:
                counts[k] += 1
    kinds = list(COCREATION_KINDS)
    t = pa.table(
        {
            "kind": kinds,
            "links": pa.array([counts[k] for k in kinds], pa.int64()),
            "per_video": pa.array([counts[k] / n for k in kinds], pa.float64()),
        }
    )
    return t.sort_by([("links", "descending"), ("kind", "ascending")])


def posting_windows(events: pa.Table, *, top_n: int = 3) -> pa.Table:
    """Activity curve by UTC hour of the community's impressions, best hours first.

    *events*: ``viewer_id, ts, liked, shared, commented, followed`` on community videos.
    Returns ``hour, impressions, viewers, share, actions_per_impression``."""
    if events.num_rows == 0:
        raise InputError("no activity for this community", field="events")
    hour = pc.hour(events["ts"]).to_numpy(zero_copy_only=False)
    acts = np.zeros(events.num_rows)
    for c in ("liked", "shared", "commented", "followed"):
        acts += pc.fill_null(events[c], False).to_numpy(zero_copy_only=False)
    imp = np.bincount(hour, minlength=24)
    act = np.bincount(hour, weights=acts, minlength=24)
    who: dict[int, set[str]] = defaultdict(set)
    for h, v in zip(hour, events["viewer_id"].to_pylist(), strict=True):
        who[int(h)].add(v)
    t = pa.table(
        {
            "hour": pa.array(np.arange(24), pa.int64()),
            "impressions": pa.array(imp, pa.int64()),
            "viewers": pa.array([len(who[h]) for h in range(24)], pa.int64()),
            "share": imp / imp.sum(),
            "actions_per_impression": np.divide(act, imp, out=np.zeros(24), where=imp > 0),
        }
    )
    return t.sort_by([("impressions", "descending"), ("hour", "ascending")]).slice(0, top_n)


def lingo_examples(
    lingo: pa.Table,
    comments: pa.Table,
    *,
    flagged: set[str] | frozenset[str] = frozenset(),
    per_term: int = 2,
) -> pa.Table:
    """One row per (lingo term, commenter) who used it in a comment that passed moderation:
    ``term, rank, user_id, example`` (``example`` is one passing comment using the term,
    the same for every row of a term). Aggregate with the privacy guard before publishing.

    *lingo*: ``term, rank`` for one community; *comments*: ``comment_id, user_id, text``
    on the community's videos; *flagged*: ids of comments moderation flagged. @handles in
    the examples are masked."""
    terms = dict(zip(lingo["term"].to_pylist(), lingo["rank"].to_pylist(), strict=True))
    if not terms:
        raise InputError("the community has no lingo", field="community")
    pat = re.compile(r"\b(" + "|".join(map(re.escape, terms)) + r")\b", re.IGNORECASE)
    users: dict[str, set[str]] = defaultdict(set)
    example: dict[str, list[str]] = defaultdict(list)
    c = comments.to_pydict()
    for cid, uid, text in zip(c["comment_id"], c["user_id"], c["text"], strict=True):
        if cid in flagged or not text or uid is None:
            continue
        for term in {m.lower() for m in pat.findall(text)}:
            users[term].add(uid)
            if len(example[term]) < per_term:
                example[term].append(_MENTION.sub("@…", text))
    rows: dict[str, list] = {"term": [], "rank": [], "user_id": [], "example": []}
    for term, who in users.items():
        ex = " | ".join(example[term])
        for u in sorted(who):
            rows["term"].append(term)
            rows["rank"].append(terms.get(term, 0))
            rows["user_id"].append(u)
            rows["example"].append(ex)
    return pa.table(
        {
            "term": pa.array(rows["term"], pa.string()),
            "rank": pa.array(rows["rank"], pa.int64()),
            "user_id": pa.array(rows["user_id"], pa.string()),
            "example": pa.array(rows["example"], pa.string()),
        }
    )
