"""True audience overlap from viewers / engagers: Jaccard and lift over expectation.

Given ``(group, person)`` pairs for two families of groups (communities, creators), the
overlap of groups A and B is ``|A ∩ B|`` over all people, not a sample. Reported as the
Jaccard index ``|A ∩ B| / |A ∪ B|`` and the lift ``|A ∩ B| · N / (|A| · |B|)`` (observed
over the overlap expected if membership were independent, N = people in the population).
Computed with one sparse product of the group × person incidence matrices.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from ..core.errors import InputError

OVERLAP_SCHEMA = pa.schema(
    [
        ("a", pa.string()),
        ("b", pa.string()),
        ("size_a", pa.int64()),
        ("size_b", pa.int64()),
        ("shared", pa.int64()),
        ("jaccard", pa.float64()),
        ("lift", pa.float64()),
    ]
)


def _incidence(
    t: pa.Table, group: str, person: str, people: dict[str, int]
) -> tuple[np.ndarray, sp.csr_matrix]:
    for c in (group, person):
        if c not in t.column_names:
            raise InputError(f"missing column {c!r}", field="audience")
    t = t.select([group, person]).drop_null()
    g = pc.cast(t[group], pa.string()).to_numpy(zero_copy_only=False)
    p = t[person].to_numpy(zero_copy_only=False)
    labels, gi = np.unique(g, return_inverse=True)
    pi = np.array([people[x] for x in p], dtype=np.int64)
    m = sp.csr_matrix((np.ones(len(gi)), (gi, pi)), shape=(len(labels), len(people)))
    m.data[:] = 1.0  # duplicates summed → binarise
    m.sum_duplicates()
    m.data[:] = 1.0
    return labels, m


def audience_overlap(
    left: pa.Table,
    right: pa.Table | None = None,
    *,
    group: str = "group",
    person: str = "person",
    population: int | None = None,
    min_shared: int = 1,
) -> pa.Table:
    """Pairwise overlap between the groups of *left* and of *right* (or *left* with itself).

    Both tables hold ``(group, person)`` rows (duplicates fine). *population* (N for the
    lift) defaults to the distinct people in the inputs. Self pairs and, for one family,
    the mirrored pair (b, a) are left out. Returns :data:`OVERLAP_SCHEMA`, most shared first.
    """
    if left.num_rows == 0 or (right is not None and right.num_rows == 0):
        raise InputError("no audience rows: no viewing events for these groups", field="audience")
    ids = left[person].to_pylist() + ([] if right is None else right[person].to_pylist())
    people = {p: i for i, p in enumerate(dict.fromkeys(x for x in ids if x is not None))}
    la, ma = _incidence(left, group, person, people)
    lb, mb = (la, ma) if right is None else _incidence(right, group, person, people)
    n = population or len(people)
    if n < len(people):
        raise InputError("population is smaller than the people seen", field="population")
    inter = (ma @ mb.T).tocoo()
    sa = np.asarray(ma.sum(axis=1)).ravel()
    sb = np.asarray(mb.sum(axis=1)).ravel()
    keep = inter.data >= min_shared
    r, c, s = inter.row[keep], inter.col[keep], inter.data[keep]
    if right is None:
        keep = r < c
        r, c, s = r[keep], c[keep], s[keep]
    union = sa[r] + sb[c] - s
    out = pa.table(
        {
            "a": pa.array(la[r].astype(str), pa.string()),
            "b": pa.array(lb[c].astype(str), pa.string()),
            "size_a": pa.array(sa[r].astype(np.int64)),
            "size_b": pa.array(sb[c].astype(np.int64)),
            "shared": pa.array(s.astype(np.int64)),
            "jaccard": pa.array(s / union),
            "lift": pa.array(s * n / (sa[r] * sb[c])),
        },
        schema=OVERLAP_SCHEMA,
    )
    return out.sort_by([("shared", "descending"), ("a", "ascending"), ("b", "ascending")])


def shared_people(
    left: pa.Table, right: pa.Table | None = None, *, group: str = "group", person: str = "person"
) -> pa.Table:
    """``(a, b, person)`` for every person in both groups: the rows a k-anonymity guard
    counts (each published overlap must rest on ≥ k shared people)."""
    r = left if right is None else right
    lt = left.select([group, person]).drop_null().group_by([group, person]).aggregate([])
    rt = r.select([group, person]).drop_null().group_by([group, person]).aggregate([])
    lt = lt.rename_columns(["a", person])
    rt = rt.rename_columns(["b", person])
    j = lt.join(rt, person, join_type="inner")
    j = j.select(["a", "b", person])
    j = j.set_column(0, "a", pc.cast(j["a"], pa.string())).set_column(
        1, "b", pc.cast(j["b"], pa.string())
    )
    if right is None:
        j = j.filter(pc.less(j["a"], j["b"]))
    return j
