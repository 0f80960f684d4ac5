"""Bridges: pairs of communities that share members beyond chance, and what forms them.

For two communities *a*, *b* with ``n_a`` and ``n_b`` members out of ``N`` (viewers by
InterestedIn, creators by their overlapping KnownFor, videos by their item mix — each
kind tested separately),
the shared count ``O`` is compared with its expectation under independence
``E = n_a n_b / N``: ``lift = O / E`` and the one-sided hypergeometric p-value
``P(X ≥ O)`` (Fisher's exact test). p-values are corrected for the K(K−1)/2 pairs with
Benjamini & Hochberg (1995). Each bridge lists the hashtags, sounds and creators on
videos of both sides (ranked by the smaller of the two counts) — e.g. BookTok ↔ a
fantasy-art community through #fantasyart and the creators who post in both.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from scipy.stats import hypergeom

from ..core.errors import InputError
from ..graph import Bipartite, member_of
from .overlap import Memberships


def benjamini_hochberg(p: np.ndarray, m: int | None = None) -> np.ndarray:
    """BH-adjusted q-values for *p* (``m`` tests in total; default ``len(p)``)."""
    p = np.asarray(p, dtype=float)
    m = m or len(p)
    if len(p) == 0:
        return p
    order = np.argsort(p)
    q = p[order] * m / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(q[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = np.minimum(q, 1.0)
    return out


def _shared_items(
    counts: sp.csr_matrix, names: np.ndarray, a: int, b: int, top_n: int, exclude: set[str]
) -> list[str]:
    """Items on videos of both communities, ranked by the share of the item's use that
    falls in the smaller side (specific to the pair), then by that count."""
    ra = np.asarray(counts[a].todense()).ravel()
    rb = np.asarray(counts[b].todense()).ravel()
    total = np.asarray(counts.sum(axis=0)).ravel()
    both = np.minimum(ra, rb)
    idx = np.flatnonzero(both >= 2)
    if exclude:
        idx = idx[~member_of(names[idx], exclude)]
    spec = both[idx] / np.maximum(total[idx], 1)
    order = idx[np.lexsort((names[idx].astype(str), -both[idx], -spec))]
    return [str(names[i]) for i in order[:top_n]]


def _test(members: Memberships, k: int) -> tuple[np.ndarray, ...]:
    """(a, b, shared, expected, lift, p) for every co-occurring pair of one evidence kind."""
    b = members.weights.copy().tocsr()
    b.data[:] = 1.0
    n = b.shape[0]
    n_c = np.asarray(b.sum(axis=0)).ravel()
    if n_c.shape[0] < k:
        n_c = np.pad(n_c, (0, k - n_c.shape[0]))
    shared = (b.T @ b).tocoo()
    keep = shared.row < shared.col
    ia, ib, o = shared.row[keep], shared.col[keep], shared.data[keep]
    expected = n_c[ia] * n_c[ib] / max(n, 1)
    lift = np.where(expected > 0, o / np.maximum(expected, 1e-300), 0.0)
    p = hypergeom.sf(o - 1, n, n_c[ia], n_c[ib])
    return ia.astype(np.int64), ib.astype(np.int64), o, expected, lift, p


def find_bridges(
    evidence: list[Memberships],
    k: int,
    *,
    incidence: Bipartite | None = None,
    video_primary: np.ndarray | None = None,
    creators: Memberships | None = None,
    stop: set[str] | None = None,
    alpha: float = 0.01,
    min_shared: int = 3,
    top_n: int = 5,
) -> pa.Table:
    """Significant community pairs (q < *alpha*, lift > 1, ≥ *min_shared* shared members).

    *evidence*: memberships to test (viewers, creators, videos…; any kept weight counts
    as membership). Each kind is tested on its own; q-values correct for all pairs of
    all kinds; a pair is reported once, with its most significant kind and the list of
    every significant kind. *incidence* and *video_primary* (videos × items, each
    video's community) name the bridge's hashtags and sounds; *creators* its creators.
    """
    if not 0 < alpha < 1:
        raise InputError("must be in (0, 1)", field="alpha")
    tests = [(m.kind, *_test(m, k)) for m in evidence if k >= 2 and m.weights.shape[0]]
    if not tests:
        return pa.table({f.name: [] for f in BRIDGE_SCHEMA}, schema=BRIDGE_SCHEMA)
    kind = np.concatenate([np.full(len(t[1]), t[0], dtype=object) for t in tests])
    ia, ib, o, expected, lift, p = (np.concatenate([t[i] for t in tests]) for i in range(1, 7))
    q = benjamini_hochberg(p, m=len(tests) * k * (k - 1) // 2)
    ok = (q < alpha) & (lift > 1.0) & (o >= min_shared)
    best: dict[tuple[int, int], int] = {}  # pair → index of its most significant test
    kinds: dict[tuple[int, int], list[str]] = {}
    for j in map(int, np.flatnonzero(ok)):
        pair = (int(ia[j]), int(ib[j]))
        kinds.setdefault(pair, []).append(str(kind[j]))
        if pair not in best or (q[j], -lift[j]) < (q[best[pair]], -lift[best[pair]]):
            best[pair] = j
    stop_names = {s.split(":", 1)[1] for s in (stop or set())}
    tag_c = snd_c = None
    if incidence is not None and video_primary is not None:
        tag_c = _counts(incidence, video_primary, k, "hashtag")
        snd_c = _counts(incidence, video_primary, k, "sound")
    rows: dict[str, list] = {f.name: [] for f in BRIDGE_SCHEMA}
    for (a, c), j in sorted(best.items(), key=lambda x: (q[x[1]], -lift[x[1]], x[0])):
        rows["community_a"].append(a)
        rows["community_b"].append(c)
        rows["evidence"].append(str(kind[j]))
        rows["evidence_kinds"].append(sorted(set(kinds[(a, c)])))
        rows["shared"].append(int(o[j]))
        rows["expected"].append(float(expected[j]))
        rows["lift"].append(float(lift[j]))
        rows["p_value"].append(float(p[j]))
        rows["q_value"].append(float(q[j]))
        rows["hashtags"].append(_shared_items(*tag_c, a, c, top_n, stop_names) if tag_c else [])
        rows["sounds"].append(_shared_items(*snd_c, a, c, top_n, stop_names) if snd_c else [])
        rows["creators"].append(_bridge_creators(creators, a, c, top_n))
    return pa.table(rows, schema=BRIDGE_SCHEMA)


def _counts(
    incidence: Bipartite, primary: np.ndarray, k: int, kind: str
) -> tuple[sp.csr_matrix, np.ndarray]:
    from .naming import group_counts

    return group_counts(incidence, primary, k, kind)


def _bridge_creators(creators: Memberships | None, a: int, b: int, top_n: int) -> list[str]:
    if creators is None or creators.weights.shape[1] <= max(a, b):
        return []
    w = creators.weights.tocsc()
    wa = np.asarray(w[:, a].todense()).ravel()
    wb = np.asarray(w[:, b].todense()).ravel()
    both = np.minimum(wa, wb)
    idx = np.flatnonzero(both > 0)
    order = idx[np.lexsort((creators.members[idx].astype(str), -both[idx]))]
    return [str(creators.members[i]) for i in order[:top_n]]


BRIDGE_SCHEMA = pa.schema(
    [
        ("community_a", pa.int64()),
        ("community_b", pa.int64()),
        ("evidence", pa.string()),
        ("evidence_kinds", pa.list_(pa.string())),
        ("shared", pa.int64()),
        ("expected", pa.float64()),
        ("lift", pa.float64()),
        ("p_value", pa.float64()),
        ("q_value", pa.float64()),
        ("hashtags", pa.list_(pa.string())),
        ("sounds", pa.list_(pa.string())),
        ("creators", pa.list_(pa.string())),
    ]
)
