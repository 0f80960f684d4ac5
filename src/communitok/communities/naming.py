"""Names and sizes of communities.

A community is named after its top distinctive hashtags — the hashtags of its videos with
the highest log-odds z-score against all other communities (Monroe et al. 2008, see
:mod:`communitok.communities.lingo`), learned stop-tags excluded — e.g.
``booktok · bookish · fantasybooks``. Its size is measured as the platform measures
communities: total views of its videos, plus its creators and its viewers.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from ..graph import Bipartite, member_of
from .lingo import log_odds
from .overlap import Memberships

SEPARATOR = " · "


def group_counts(
    incidence: Bipartite, primary: np.ndarray, k: int, kind: str
) -> tuple[sp.csr_matrix, np.ndarray]:
    """communities × items of *kind*: number of the community's videos carrying the item."""
    cols = np.flatnonzero(incidence.col_kinds == kind)
    ok = primary >= 0
    g = sp.csr_matrix(
        (np.ones(int(ok.sum())), (primary[ok], np.flatnonzero(ok))), shape=(k, len(primary))
    )
    names = np.asarray([str(x).split(":", 1)[1] for x in incidence.cols[cols]], dtype=object)
    return (g @ incidence.matrix[:, cols]).tocsr(), names


def top_terms(
    counts: sp.csr_matrix,
    names: np.ndarray,
    *,
    top_n: int,
    min_count: int = 2,
    exclude: set[str] | None = None,
) -> list[list[str]]:
    """Per row, the *top_n* names by log-odds z (count ≥ *min_count*, z > 0)."""
    z = log_odds(counts)
    out = []
    for g in range(counts.shape[0]):
        lo, hi = z.indptr[g], z.indptr[g + 1]
        cols, zs = z.indices[lo:hi], z.data[lo:hi]
        cnt = np.asarray(counts[g, cols].todense()).ravel() if len(cols) else np.zeros(0)
        ok = (cnt >= min_count) & (zs > 0)
        if exclude:
            ok &= ~member_of(names[cols], exclude)
        cols, zs, cnt = cols[ok], zs[ok], cnt[ok]
        order = np.lexsort((names[cols].astype(str), -cnt, -zs))[:top_n]
        out.append([str(names[cols[o]]) for o in order])
    return out


def name_communities(
    incidence: Bipartite,
    videos: Memberships,
    k: int,
    *,
    stop: set[str] | None = None,
    top_n: int = 3,
) -> tuple[list[str], list[list[str]]]:
    """(name, top distinctive hashtags) per community; without hashtags the name falls
    back to sounds (``♪ id``), then creators (``@id``), then ``community N``."""
    stop_names = {s.split(":", 1)[1] for s in (stop or set()) if s.startswith("hashtag:")}
    tags = top_terms(
        *group_counts(incidence, videos.primary, k, "hashtag"), top_n=top_n, exclude=stop_names
    )
    sounds = top_terms(*group_counts(incidence, videos.primary, k, "sound"), top_n=2)
    creators = top_terms(*group_counts(incidence, videos.primary, k, "creator"), top_n=2)
    names = []
    for c in range(k):
        if tags[c]:
            names.append(SEPARATOR.join(tags[c]))
        elif sounds[c]:
            names.append(SEPARATOR.join("♪ " + s for s in sounds[c]))
        elif creators[c]:
            names.append(SEPARATOR.join("@" + s for s in creators[c]))
        else:
            names.append(f"community {c}")
    return names, tags


def sizes(
    videos: pa.Table,
    video_memb: Memberships,
    creators: Memberships | None,
    viewers: Memberships | None,
    k: int,
) -> dict[str, np.ndarray]:
    """``views`` (sum of ``view_count`` over primary videos), ``videos``, ``creators``
    (primary KnownFor) and ``viewers`` (any InterestedIn weight kept) per community."""
    pos = {str(v): i for i, v in enumerate(video_memb.members)}
    prim = np.full(videos.num_rows, -1, dtype=np.int64)
    ids = videos["video_id"].cast(pa.string()).to_pylist()
    for row, vid in enumerate(ids):
        j = pos.get(vid)
        if j is not None:
            prim[row] = video_memb.primary[j]
    ok = prim >= 0
    views = np.zeros(videos.num_rows)
    if "view_count" in videos.column_names:
        views = pc.fill_null(videos["view_count"], 0).to_numpy(zero_copy_only=False)
    return {
        "views": np.bincount(prim[ok], weights=views[ok].astype(float), minlength=k)[:k].astype(
            np.int64
        ),
        "videos": np.bincount(prim[ok], minlength=k)[:k].astype(np.int64),
        "creators": creators.counts(k, primary_only=True).astype(np.int64)
        if creators is not None
        else np.zeros(k, np.int64),
        "viewers": viewers.counts(k).astype(np.int64)
        if viewers is not None
        else np.zeros(k, np.int64),
    }
