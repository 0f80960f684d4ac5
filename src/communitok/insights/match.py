"""Brand brief → fitting communities: lexical relevance blended with size, growth,
engagement and safety, with the matched terms as the explanation.

Each community is a weighted bag of terms from three fields: its hashtags (member
weights), its lingo (the community's over-used words) and its captions. The brief (free
text plus optional seed hashtags) is scored against each field with Okapi BM25
(Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond", 2009);
compound hashtags (``bookclub``) also match a brief word whose light stem starts them
(``books`` → ``book``), at half weight, because hashtags glue words together. The text score is normalised to the
best community (so 1.0 = best lexical match) and blended linearly with percentile ranks
of size, growth, engagement and safety health; lexical relevance dominates by default.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..core.errors import InputError

FIELDS = ("hashtag", "lingo", "caption")
#: BM25 field weights: a hashtag hit says more than a caption hit.
FIELD_WEIGHTS = {"hashtag": 1.0, "lingo": 0.8, "caption": 0.4}
_WORD = re.compile(r"[#]?[^\W_]+", re.UNICODE)
#: Words that carry no topic (English function words and platform filler).
_STOP_TEXT = (
    "a an and are as at be by for from has have i in is it its of on or our that the their "
    "this to was we with you your who want wants reach people love lovers brand campaign "
    "content creators audience young new launch looking our product products into about "
    "fyp foryou foryoupage viral trending tiktok"
)
STOPWORDS = frozenset(_STOP_TEXT.split())


@dataclass(frozen=True)
class Brief:
    """A brand brief: free text, optional seed hashtags, regions and exclusions."""

    text: str = ""
    hashtags: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    #: terms or hashtags the brand wants to stay away from
    exclude: tuple[str, ...] = ()

    def terms(self) -> list[str]:
        words = tokenize(self.text) + [normalize(h) for h in self.hashtags]
        return [w for w in words if w and w not in STOPWORDS]

    def validate(self) -> Brief:
        if not isinstance(self.text, str):
            raise InputError("must be text", field="brief")
        if len(set(self.terms())) < 1:
            raise InputError(
                "the brief has no content words: describe the audience or add seed hashtags",
                field="brief",
            )
        return self


@dataclass(frozen=True)
class MatchWeights:
    """Blend weights; they are normalised to sum to 1."""

    text: float = 0.75
    size: float = 0.1
    growth: float = 0.05
    engagement: float = 0.05
    safety: float = 0.05

    def normalised(self) -> dict[str, float]:
        w = {
            "text": self.text,
            "size": self.size,
            "growth": self.growth,
            "engagement": self.engagement,
            "safety": self.safety,
        }
        if any(v < 0 for v in w.values()):
            raise InputError("blend weights must be >= 0", field="weights")
        total = sum(w.values())
        if total <= 0 or w["text"] <= 0:
            raise InputError("the text weight must be > 0", field="weights")
        return {k: v / total for k, v in w.items()}


def normalize(word: str) -> str:
    return word.strip().lstrip("#").lower()


def tokenize(text: str) -> list[str]:
    return [normalize(m) for m in _WORD.findall(text or "")]


def community_documents(
    members: pa.Table, lingo: pa.Table | None = None, captions: pa.Table | None = None
) -> dict[int, dict[str, Counter[str]]]:
    """Per community, a term bag per field.

    *members*: ``community_id, member_kind, member_id, weight`` (hashtag rows are used);
    *lingo*: ``community_id, term, count``; *captions*: ``community_id, description``.
    """
    docs: dict[int, dict[str, Counter[str]]] = defaultdict(lambda: {f: Counter() for f in FIELDS})
    m = members.to_pydict()
    for cid, kind, mid, w in zip(
        m["community_id"], m["member_kind"], m["member_id"], m["weight"], strict=True
    ):
        if kind == "hashtag" and mid:
            docs[int(cid)]["hashtag"][normalize(mid)] += max(1, round(10 * float(w or 0)))
    if lingo is not None and lingo.num_rows:
        g = lingo.to_pydict()
        for cid, term, cnt in zip(g["community_id"], g["term"], g["count"], strict=True):
            docs[int(cid)]["lingo"][normalize(term)] += max(1, int(math.log1p(cnt or 1) * 3))
    if captions is not None and captions.num_rows:
        c = captions.to_pydict()
        for cid, text in zip(c["community_id"], c["description"], strict=True):
            if cid is not None and text:
                docs[int(cid)]["caption"].update(
                    t for t in tokenize(text) if t not in STOPWORDS and not t.isdigit()
                )
    return dict(docs)


def _stem(word: str) -> str:
    """A light English suffix strip for matching words inside hashtags (books → book)."""
    for suf in ("ings", "ing", "ers", "er", "es", "s"):
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            return word[: -len(suf)]
    return word


def _bm25(
    query: Sequence[str], bags: Sequence[Counter[str]], k1: float = 1.2, b: float = 0.75
) -> tuple[np.ndarray, list[dict[str, float]]]:
    """BM25 of *query* against each bag, with per-term contributions."""
    n = len(bags)
    lengths = np.array([sum(bag.values()) for bag in bags], float)
    avg = lengths.mean() if n and lengths.mean() > 0 else 1.0
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(set(bag))
    scores = np.zeros(n)
    parts: list[dict[str, float]] = [{} for _ in range(n)]
    qset = set(query)
    for term in qset:
        # exact hits, and prefix hits of a query word inside compound hashtags
        for i, bag in enumerate(bags):
            tf, hit = float(bag.get(term, 0)), term
            stem = _stem(term)
            if tf == 0 and len(stem) >= 3:
                pre = [t for t in bag if t != term and t.startswith(stem)]
                if pre:
                    tf, hit = 0.5 * sum(bag[t] for t in pre), max(pre, key=lambda t: bag[t])
            if tf == 0:
                continue
            d = df.get(term, 0) or sum(1 for bb in bags if any(t.startswith(stem) for t in bb))
            idf = math.log(1 + (n - d + 0.5) / (d + 0.5))
            s = idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[i] / avg))
            scores[i] += s
            parts[i][hit if hit == term else f"{term}→{hit}"] = s
    return scores, parts


def _pct(x: np.ndarray) -> np.ndarray:
    """Percentile rank in [0, 1] (ties share the mean rank); NaN → 0.5."""
    out = np.full(x.shape, 0.5)
    ok = ~np.isnan(x)
    if ok.sum() > 1:
        order = x[ok].argsort().argsort().astype(float)
        vals = x[ok]
        ranks = np.array([order[vals == v].mean() for v in vals])
        out[ok] = ranks / (ok.sum() - 1)
    return out


MATCH_SCHEMA = pa.schema(
    [
        ("rank", pa.int64()),
        ("community_id", pa.int64()),
        ("name", pa.string()),
        ("score", pa.float64()),
        ("text_score", pa.float64()),
        ("size_pct", pa.float64()),
        ("growth_pct", pa.float64()),
        ("engagement_pct", pa.float64()),
        ("safety_pct", pa.float64()),
        ("region_share", pa.float64()),
        ("semantic_score", pa.float64()),
        ("matched_hashtags", pa.list_(pa.string())),
        ("matched_lingo", pa.list_(pa.string())),
        ("matched_captions", pa.list_(pa.string())),
    ]
)


def _col(
    t: pa.Table | None, name: str, ids: Sequence[int], key: str = "community_id"
) -> np.ndarray:
    if t is None or name not in t.column_names:
        return np.full(len(ids), np.nan)
    d = dict(zip(t[key].to_pylist(), t[name].to_pylist(), strict=True))
    return np.array([np.nan if d.get(i) is None else float(d[i]) for i in ids])


def match_communities(
    brief: Brief,
    documents: Mapping[int, Mapping[str, Counter[str]]],
    stats: pa.Table | None = None,
    *,
    regions: pa.Table | None = None,
    weights: MatchWeights | None = None,
    top_n: int | None = 10,
    min_text: float = 0.0,
    semantic: Mapping[int, float] | None = None,
    semantic_weight: float = 0.5,
) -> pa.Table:
    """Rank communities for *brief*.

    *documents* from :func:`community_documents`. *stats* (optional) has
    ``community_id`` and any of ``name, views, growth, engagement, safety_health``;
    *regions* (optional) ``community_id, region, share``: the community's audience share in
    each region (the brief's regions multiply the score by the share in them). Communities
    with no lexical match, or that hit an exclusion, are dropped. *semantic* (optional,
    from :func:`~communitok.insights.embed.semantic_scores`): per community a similarity
    in [0, 1] blended into the text score with *semantic_weight* (1: embeddings only);
    then a community matches lexically or semantically. Returns :data:`MATCH_SCHEMA`
    rows, best first.
    """
    brief.validate()
    if not documents:
        raise InputError(
            "no communities to match: run community detection first", field="documents"
        )
    w = (weights or MatchWeights()).normalised()
    ids = sorted(documents)
    query = brief.terms()
    per_field = {}
    total = np.zeros(len(ids))
    for f in FIELDS:
        s, parts = _bm25(query, [documents[i][f] for i in ids])
        per_field[f] = parts
        total += FIELD_WEIGHTS[f] * s
    best = total.max() if total.size else 0.0
    text = total / best if best > 0 else total
    sem = np.zeros(len(ids))
    if semantic is not None:
        if not 0 <= semantic_weight <= 1:
            raise InputError("must be in [0, 1]", field="semantic_weight")
        sem = np.array([float(semantic.get(i, 0.0)) for i in ids])
        text = (1 - semantic_weight) * text + semantic_weight * sem
    size = _pct(np.log1p(_col(stats, "views", ids)))
    growth = _pct(_col(stats, "growth", ids))
    eng = _pct(_col(stats, "engagement", ids))
    safe = _col(stats, "safety_health", ids)
    safe = np.where(np.isnan(safe), 0.5, safe)
    score = (
        w["text"] * text
        + w["size"] * size
        + w["growth"] * growth
        + w["engagement"] * eng
        + w["safety"] * safe
    )
    region_share = np.ones(len(ids))
    if brief.regions and regions is not None and regions.num_rows:
        want = {r.upper() for r in brief.regions}
        acc: dict[int, float] = defaultdict(float)
        r = regions.to_pydict()
        for cid, reg, sh in zip(r["community_id"], r["region"], r["share"], strict=True):
            if (reg or "").upper() in want:
                acc[int(cid)] += float(sh or 0)
        region_share = np.array([acc.get(i, 0.0) for i in ids])
        score = score * region_share
    names = (
        dict(zip(stats["community_id"].to_pylist(), stats["name"].to_pylist(), strict=True))
        if (stats is not None and "name" in stats.column_names)
        else {}
    )
    excl = [normalize(x) for x in brief.exclude if normalize(x)]
    rows = []
    for j, cid in enumerate(ids):
        if text[j] <= min_text or text[j] <= 0:
            continue
        doc = documents[cid]
        hit_ex = sorted(
            {
                x
                for x in excl
                for f in ("hashtag", "lingo")
                for t in doc[f]
                if t == x or t.startswith(x)
            }
        )
        if hit_ex:
            continue

        def top(f: str, j: int = j) -> list[str]:
            return [t for t, _ in sorted(per_field[f][j].items(), key=lambda kv: -kv[1])]

        rows.append(
            {
                "community_id": cid,
                "name": names.get(cid, str(cid)),
                "score": float(score[j]),
                "text_score": float(text[j]),
                "size_pct": float(size[j]),
                "growth_pct": float(growth[j]),
                "engagement_pct": float(eng[j]),
                "safety_pct": float(safe[j]),
                "region_share": float(region_share[j]),
                "semantic_score": float(sem[j]) if semantic is not None else None,
                "matched_hashtags": top("hashtag"),
                "matched_lingo": top("lingo"),
                "matched_captions": top("caption")[:10],
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["community_id"]))
    if top_n is not None:
        rows = rows[:top_n]
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return pa.Table.from_pylist(rows, schema=MATCH_SCHEMA)


def brief_from_terms(terms: Iterable[str], text: str = "") -> Brief:
    """A brief from seed hashtags / lingo words (used by the known-answer evaluation)."""
    return Brief(text=text, hashtags=tuple(terms))
