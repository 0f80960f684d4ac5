"""The serving hot path's helpers against straightforward references.

Each helper replaces a slower formulation (a scipy constructor, ``np.isin`` /
``np.unique``, a per-key or per-item loop, a masked greedy step) and must give exactly
what the slower one gave: these tests compare them, on random inputs with ties,
padding, duplicates and excluded items, and on the planted platform."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from communitok.core.errors import InputError
from communitok.feed import ReRanker
from communitok.feed.ann import EmbeddingIndex, exact_top_k, isin_sorted, search_excluding
from communitok.feed.request import merged_rows, union_ranks
from communitok.feed.sources import CommunitySource, MFSource, TrendingSource
from communitok.feed.sources.lists import KeyedLists, Memberships, best_keys, union_heads
from communitok.feed.sources.popular import viewer_community_weights
from communitok.feed.stages import (
    PARTITION_MIN,
    Reason,
    RequestBatch,
    ViewerRow,
    csr_from_arrays,
    pools_top,
    shared_reason,
    unique_ints,
)


def _random_csr(g: np.random.Generator, n_rows: int, n_cols: int, density: float) -> sp.csr_matrix:
    m = sp.random(n_rows, n_cols, density=density, format="csr", dtype=np.float32, rng=g)
    m.sum_duplicates()
    return m


def test_csr_from_arrays_is_the_constructed_matrix() -> None:
    g = np.random.default_rng(0)
    for n_rows, n_cols in ((1, 50), (3, 7), (4, 1), (2, 0)):
        ref = _random_csr(g, n_rows, n_cols, 0.3) if n_cols else sp.csr_matrix((n_rows, 0))
        ref = sp.csr_matrix(ref, dtype=np.float32)
        m = csr_from_arrays(ref.data.copy(), ref.indices.copy(), ref.indptr.copy(), ref.shape)
        assert m.shape == ref.shape and m.dtype == np.float32
        assert m.indices.dtype == m.indptr.dtype == np.int32
        assert m.has_canonical_format and m.has_sorted_indices
        assert (m != ref).nnz == 0
        np.testing.assert_array_equal(m.toarray(), ref.toarray())
        if n_cols:
            x = g.random(n_cols).astype(np.float32)
            np.testing.assert_array_equal(m @ x, ref @ x)
            np.testing.assert_array_equal(m[[n_rows - 1]].toarray(), ref[[n_rows - 1]].toarray())
    # a second matrix of the same shape shares nothing with the first
    a = csr_from_arrays(np.ones(1, np.float32), np.array([2], np.int32), np.array([0, 1]), (1, 5))
    b = csr_from_arrays(
        np.ones(2, np.float32), np.array([0, 4], np.int32), np.array([0, 2]), (1, 5)
    )
    assert a.nnz == 1 and b.nnz == 2 and a.toarray()[0, 2] == 1 and a.toarray()[0, 4] == 0
    with pytest.raises(InputError):
        csr_from_arrays(np.ones(1, np.float32), np.array([0], np.int32), np.array([0, 1]), (2, 5))
    with pytest.raises(InputError):
        csr_from_arrays(np.ones(2, np.float32), np.array([0], np.int32), np.array([0, 1]), (1, 5))


def test_merged_rows_sums_extras_like_a_sparse_sum() -> None:
    g = np.random.default_rng(1)
    M = _random_csr(g, 6, 30, 0.2)
    rows = np.array([0, 5, 2])
    parts = [
        (M.indices[M.indptr[r] : M.indptr[r + 1]], M.data[M.indptr[r] : M.indptr[r + 1]])
        for r in rows
    ]
    extra = [([3, 3, 29], [1.0, 2.0, 0.5]), ([], []), (list(M[2].indices[:1]), [4.0])]
    got = merged_rows(parts, extra, 30)
    ref = M[rows].toarray()
    for r, (idx, val) in enumerate(extra):
        for i, v in zip(idx, val, strict=True):
            ref[r, i] += v
    np.testing.assert_allclose(got.toarray(), ref, rtol=1e-6)
    assert got.has_canonical_format
    for r in range(3):  # canonical: sorted, unique
        idx = got.indices[got.indptr[r] : got.indptr[r + 1]]
        assert np.all(np.diff(idx) > 0)
    # the request owns its arrays: writing to it leaves the source matrix alone
    before = M.data.copy()
    merged_rows(parts, None, 30).data[:] = -1
    for one, row in ((parts[:1], rows[0]), (parts[2:3], rows[2])):  # one row: serving
        m = merged_rows(one, None, 30)
        m.data[:] = -1
        m.indices[:] = 0
        for ex in (None, [([], [])]):
            m = merged_rows(one, ex, 30)
            assert m.has_canonical_format and m.shape == (1, 30)
            np.testing.assert_array_equal(m.toarray()[0], M[row].toarray()[0])
    np.testing.assert_array_equal(M.data, before)


def test_isin_sorted_and_unique_ints_match_numpy() -> None:
    g = np.random.default_rng(2)
    for size, ref_size in ((0, 5), (5, 0), (1, 1), (40, 7), (300, 200)):
        x = g.integers(-3, 50, size)
        ref = np.unique(g.integers(0, 50, ref_size))
        np.testing.assert_array_equal(isin_sorted(x, ref), np.isin(x, ref))
        np.testing.assert_array_equal(isin_sorted(x, ref.astype(np.int32)), np.isin(x, ref))
        u = unique_ints(x)
        np.testing.assert_array_equal(u, np.unique(x))
        assert u.dtype == x.dtype


def _head_reference(kl: KeyedLists, keys, n: int, excluded) -> np.ndarray:
    """First n non-excluded items of each valid key's list, united."""
    got: set[int] = set()
    ex = set() if excluded is None else set(np.asarray(excluded).tolist())
    for k in np.asarray(keys).tolist():
        if 0 <= k < kl.n_keys:
            lst = kl.items[kl.indptr[k] : kl.indptr[k + 1]].tolist()
            got |= set([i for i in lst if i not in ex][:n])
    return np.array(sorted(got), np.int64)


def test_keyed_list_heads_match_a_brute_force_reading() -> None:
    g = np.random.default_rng(3)
    for trial in range(200):
        n_keys, n_items = int(g.integers(1, 6)), int(g.integers(1, 60))
        key_item = _random_csr(g, n_keys, n_items, float(g.uniform(0.05, 0.8)))
        kl = KeyedLists(key_item, g.random(n_items))
        keys = g.integers(-1, n_keys + 1, int(g.integers(0, 5)))
        n = int(g.integers(1, 8))
        excluded = (
            None
            if trial % 5 == 0
            else np.unique(g.integers(0, n_items, int(g.integers(0, n_items + 1))))
        )
        got = kl.head(keys, n, excluded)
        np.testing.assert_array_equal(got, _head_reference(kl, keys, n, excluded))
        assert got.dtype == np.int64
        other = KeyedLists(sp.csr_matrix(np.ones((1, n_items))), g.random(n_items))
        both = union_heads([(kl, keys), (other, np.zeros(1, np.int64))], n, excluded)
        np.testing.assert_array_equal(
            both, np.union1d(kl.head(keys, n, excluded), other.head(np.zeros(1), n, excluded))
        )


def _best_key_reference(weights, members: sp.csr_matrix, item: int) -> int:
    """The per-item rule the explanations used: the first key of the item's row (in
    the row's stored order) with the largest positive product."""
    lo, hi = members.indptr[item], members.indptr[item + 1]
    cols, vals = members.indices[lo:hi], members.data[lo:hi]
    if len(weights) != members.shape[1] or not len(cols):
        return -1
    score = weights[cols] * vals
    return int(cols[int(np.argmax(score))]) if np.any(score > 0) else -1


def test_best_keys_matches_the_per_item_rule_with_ties() -> None:
    g = np.random.default_rng(4)
    for _ in range(50):
        n_items, n_keys = 30, 5
        dense = g.choice([0.0, 0.5, 1.0], size=(n_items, n_keys), p=[0.5, 0.25, 0.25])
        members = sp.csr_matrix(dense.astype(np.float32))
        memberships = Memberships(members)
        w = g.choice([0.0, 0.5, 1.0], size=n_keys).astype(np.float32)  # ties on purpose
        items = g.integers(0, n_items, 12)
        want = [_best_key_reference(w, members, int(i)) for i in items]
        assert best_keys(w, members, memberships, items).tolist() == want
        # rows stored in another order: the row-by-row path keeps that order's tie rule
        rev = members.copy()
        for r in range(n_items):
            lo, hi = rev.indptr[r], rev.indptr[r + 1]
            rev.indices[lo:hi] = rev.indices[lo:hi][::-1].copy()
            rev.data[lo:hi] = rev.data[lo:hi][::-1].copy()
        rev.has_sorted_indices = False
        want_rev = [_best_key_reference(w, rev, int(i)) for i in items]
        assert best_keys(w, rev, memberships, items).tolist() == want_rev
    assert best_keys(np.ones(3, np.float32), members, memberships, items).tolist() == [-1] * 12
    # no keys at all (a catalogue without communities)
    none = sp.csr_matrix((n_items, 0), dtype=np.float32)
    got = best_keys(np.zeros(0, np.float32), none, Memberships(none), items)
    assert got.tolist() == [-1] * 12


def test_one_key_affinity_equals_the_general_gather() -> None:
    g = np.random.default_rng(5)
    n_items, n_keys = 50, 6
    key = g.integers(0, n_keys, n_items)
    members = sp.csr_matrix(
        (g.random(n_items).astype(np.float32), (np.arange(n_items), key)), shape=(n_items, n_keys)
    )
    ms = Memberships(members)
    assert ms.keys.shape[1] == 1
    W = g.random((1, n_keys)).astype(np.float32)
    W[0, 2] = 0
    items = g.integers(-1, n_items, (1, 40))
    one = ms.affinity(W, items)
    two = ms.affinity(np.vstack([W, W]), np.vstack([items, items]))  # the general path
    np.testing.assert_array_equal(one[0], two[0])
    assert one.dtype == np.float32 and np.all(one[items < 0] == 0)
    dense = (W @ members.T.toarray())[0]
    np.testing.assert_allclose(one[0][items[0] >= 0], dense[items[0][items[0] >= 0]], rtol=1e-6)


def test_viewer_community_weights_rows_sum_to_one() -> None:
    for comm in ([[2.0, 0.0, 1.0]], [[2.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 3.0, 3.0]]):
        C = sp.csr_matrix(np.asarray(comm, np.float32))
        n = C.shape[0]
        req = RequestBatch(
            viewers=np.arange(n),
            history=sp.csr_matrix((n, 4), dtype=np.float32),
            exclude=sp.csr_matrix((n, 4), dtype=np.float32),
            communities=C,
            following=sp.csr_matrix((n, 1), dtype=np.float32),
        )
        W = viewer_community_weights(req, 3)
        ref = np.asarray(comm, np.float32)
        tot = ref.sum(axis=1, keepdims=True)
        ref = np.divide(ref, tot, out=np.zeros_like(ref), where=tot > 0)
        np.testing.assert_array_equal(W, ref)
        np.testing.assert_allclose(W[0], [2 / 3, 0, 1 / 3], rtol=1e-6)


def test_search_excluding_is_the_exact_top_n_without_the_excluded() -> None:
    g = np.random.default_rng(6)
    V = g.normal(size=(300, 8)).astype(np.float32)
    Q = g.normal(size=(3, 8)).astype(np.float32)
    index = EmbeddingIndex("flat").fit(V)
    n = 10
    _, best = exact_top_k(Q, V, 300)
    excluded = [
        np.zeros(0, np.int64),
        np.sort(best[1][[0, 3, 4]]),  # a few of the best: the over-fetch covers them
        np.sort(best[2][:40]),  # more than the over-fetch: a deeper search
    ]
    scores, ids = search_excluding(index, Q, n, excluded)
    for r in range(3):
        # excluded (and missing) results come back with -inf scores
        dropped = np.isneginf(scores[r])
        assert np.all(dropped[(ids[r] < 0) | np.isin(ids[r], excluded[r])])
        want = [i for i in best[r].tolist() if i not in set(excluded[r].tolist())][:n]
        assert ids[r][~dropped][:n].tolist() == want
        np.testing.assert_allclose(scores[r][~dropped][:n], Q[r] @ V[want].T, rtol=1e-5)


@pytest.mark.parametrize("ids", [12, 1000])  # many shared items / mostly distinct
def test_union_ranks_matches_a_brute_force_rank_per_list(ids: int) -> None:
    """The union of candidate lists (each row's items ascending, then -1) and each union
    item's rank in each list (its first position; inf when the list does not hold it),
    on random batches with padding and duplicates within a list."""
    g = np.random.default_rng(8)
    for _ in range(200):
        n, n_lists = int(g.integers(1, 7)), int(g.integers(1, 5))
        lists = [g.integers(-1, ids, size=(n, int(g.integers(0, 12)))) for _ in range(n_lists)]
        for lst in lists:  # duplicates within a list
            if lst.shape[1] > 2:
                lst[:, -1] = lst[:, 0]
        items, ranks = union_ranks(lists)
        assert len(ranks) == n_lists
        for r in range(n):
            want = sorted({int(x) for lst in lists for x in lst[r] if x >= 0})
            assert items[r][: len(want)].tolist() == want
            assert np.all(items[r][len(want) :] == -1)
            for lst, rank in zip(lists, ranks, strict=True):
                for j, item in enumerate(items[r].tolist()):
                    where = np.flatnonzero(lst[r] == item) if item >= 0 else []
                    assert rank[r, j] == (float(where[0]) if len(where) else np.inf)


def test_pools_top_reads_long_and_short_pools_alike() -> None:
    g = np.random.default_rng(9)
    for size in (5, 60, PARTITION_MIN + 500):
        it = g.permutation(size * 3)[:size].astype(np.int64)
        sc = g.choice([0.1, 0.2, 0.3, np.inf * -1, 0.25], size).astype(np.float32)  # ties
        c = pools_top([(it, sc), (it[:3], sc[:3])], 40)
        ok = np.isfinite(sc)
        order = np.lexsort((it[ok], -sc[ok]))[:40]
        assert c.items[0][: len(order)].tolist() == it[ok][order].tolist()
        np.testing.assert_array_equal(c.scores[0][: len(order)], sc[ok][order])
        assert np.all(c.items[0][len(order) :] == -1)


def _greedy_reference(self, items, rel, explore, k, explore_slots, bound=None):
    """The greedy as first written (objective masked at every slot)."""
    m = len(items)
    V = self.vectors_[items] if self.vectors_ is not None and self.diversity > 0 else None
    max_sim = np.zeros(m)
    taken = np.zeros(m, bool)
    blocked = np.zeros(m, bool)
    quota = max(1, int(np.floor(self.community_quota * k))) if self.community_quota < 1 else 0
    caps = [
        (cap, codes[items], {})
        for cap, codes in (
            (self.creator_cap, self.creator_),
            (self.sound_cap, self.sound_),
            (quota, self.community_),
        )
    ]
    chosen, flags, strict = [], [], True
    base = (1 - self.diversity) * rel
    any_explore = bool(explore.any())
    for relax in (0, 1):
        ok = ~taken if relax else ~taken & ~blocked
        while len(chosen) < k:
            obj = base - self.diversity * max_sim if V is not None else base
            want_explore = len(chosen) in explore_slots
            pool = ok
            if want_explore and any_explore:
                both = ok & explore
                if both.any():
                    pool = both
            if not pool.any():
                break
            j = int(np.argmax(np.where(pool, obj, -np.inf)))
            if bound is not None and not (want_explore and explore[j]) and obj[j] <= bound:
                return np.zeros(0, np.int64), np.zeros(0, bool), False
            taken[j] = True
            ok[j] = False
            chosen.append(j)
            flags.append(bool(want_explore and explore[j]))
            strict = strict and not relax
            for cap, keys, counts in caps:
                key = int(keys[j])
                if key < 0:
                    continue
                counts[key] = counts.get(key, 0) + 1
                if cap and counts[key] == cap:
                    hit = keys == key
                    blocked |= hit
                    if not relax:
                        ok &= ~hit
            if V is not None:
                np.maximum(max_sim, V @ V[j], out=max_sim)
    strict = strict and len(chosen) == min(k, m)
    return np.asarray(chosen, np.int64), np.asarray(flags, bool), strict


@pytest.mark.parametrize("diversity", [0.0, 0.3, 0.9])
def test_greedy_picks_what_the_masked_reference_picks(planted_ctx, diversity: float) -> None:
    g = np.random.default_rng(10)
    n_videos = planted_ctx.catalogue.n_videos
    for trial in range(60):
        rr = ReRanker(
            diversity=diversity,
            creator_cap=int(g.integers(0, 3)),
            sound_cap=int(g.integers(0, 3)),
            community_quota=float(g.choice([0.3, 0.6, 1.0])),
        ).fit(planted_ctx)
        m = int(g.integers(0, n_videos))
        items = g.permutation(n_videos)[:m]
        rel = g.choice([0.0, 0.5, 0.7, 1.0], m) + (g.random(m) if trial % 2 else 0.0)  # ties
        explore = g.random(m) < 0.2
        k = int(g.integers(1, 15))
        slots = {int(s) for s in g.integers(0, k, int(g.integers(0, 3)))}
        bound = None if trial % 3 else float(g.uniform(0, 0.8))
        got = rr._greedy(items, rel, explore, k, slots, bound)
        want = _greedy_reference(rr, items, rel, explore, k, slots, bound)
        for a, b in zip(got[:2], want[:2], strict=True):
            np.testing.assert_array_equal(a, b)
        assert got[2] == want[2]


def test_shared_reasons_are_equal_values_built_once() -> None:
    a = shared_reason("community", "popular in k1", community_id="k1")
    assert a == Reason("community", "popular in k1", community_id="k1")
    assert shared_reason("community", "popular in k1", community_id="k1") is a
    assert shared_reason("community", "popular in k1") != a


def test_vectorised_community_reasons_match_the_per_item_rule(planted_ctx) -> None:
    cat = planted_ctx.catalogue
    for src in (CommunitySource().fit(planted_ctx), TrendingSource().fit(planted_ctx)):
        comm = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]], np.float32))
        n = 3
        req = RequestBatch(
            viewers=np.array([0, 1, -1]),
            history=sp.csr_matrix((n, cat.n_videos), dtype=np.float32),
            exclude=sp.csr_matrix((n, cat.n_videos), dtype=np.float32),
            communities=comm,
            following=sp.csr_matrix((n, len(cat.creator_ids)), dtype=np.float32),
        )
        items = np.arange(cat.n_videos)
        for r in range(n):
            viewer = ViewerRow.of(req, r, cat)
            got = src.explain_many(viewer, items)
            for item, reason in zip(items.tolist(), got, strict=True):
                c = _best_key_reference(viewer.communities, src.members_, item)
                cid = None if c < 0 else str(cat.community_ids[c])
                assert reason.community_id == cid
                assert (cid or "") in reason.text
            if r == 0:  # a guitartok viewer: guitartok videos are explained by it
                assert got[-1].community_id == "guitartok" and got[0].community_id is None


def test_mf_item_norms_follow_the_factors(planted_ctx) -> None:
    src = MFSource(factors=4, iterations=2, ann=None).fit(planted_ctx)
    V = src.model_.item_factors_
    idx = np.array([3, 0, 7])
    np.testing.assert_array_equal(src.item_norms()[idx], np.linalg.norm(V[idx], axis=1))
    g = np.random.default_rng(11)
    src.set_factors(g.normal(size=(5, 3)), g.normal(size=(V.shape[0], 3)))
    np.testing.assert_array_equal(
        src.item_norms(), np.linalg.norm(src.model_.item_factors_, axis=1)
    )
