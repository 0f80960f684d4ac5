"""Tracking communities over time windows (Greene, Doyle & Cunningham 2010, "Tracking the
Evolution of Communities in Dynamic Social Networks", ASONAM).

Detection runs per window; each window's *step communities* are matched to the *fronts*
of the tracked (dynamic) communities — the member set each had when last seen — by the
Jaccard index of members. With θ the match threshold:

* one-to-one best matches continue a tracked id (stable ids across windows); a size
  change beyond ``growth`` (default ×1.5) is recorded as ``growth`` / ``shrink``;
* a step community matching several fronts is a **merge** (it continues the best match,
  the others end);
* several step communities matching one front is a **split** (the best match continues,
  the others get new ids);
* for merges and splits a pair also matches when the smaller side has ≥ ``containment``
  (default 0.5) of its members in the other: a split child keeps part of a large parent
  and adds new members, so its Jaccard with the parent can stay below θ;
* an unmatched step community is a **birth**; a front unmatched for ``death_after``
  windows in a row is a **death**.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from ..core.errors import InputError


@dataclass(frozen=True)
class Window:
    """One window's detected communities: ``communities[local_id] = member ids``."""

    label: str
    communities: dict[int, frozenset[str]]


@dataclass(frozen=True, eq=False)
class Tracking:
    #: window, window_index, local_id, community_id (tracked), size, jaccard (to its front)
    history: pa.Table
    #: window, window_index, kind, community_ids, sources, jaccard
    events: pa.Table
    #: tracked id → member set when last seen (alive at the end)
    fronts: dict[int, frozenset[str]]
    #: the next unused tracked id
    next_id: int

    def mapping(self, window_index: int) -> dict[int, int]:
        """local id → tracked id in one window."""
        h = self.history.filter(pa.compute.equal(self.history["window_index"], window_index))
        return dict(zip(h["local_id"].to_pylist(), h["community_id"].to_pylist(), strict=True))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def track(
    windows: Sequence[Window],
    *,
    threshold: float = 0.3,
    death_after: int = 1,
    growth: float = 1.5,
    containment: float = 0.5,
    initial: dict[int, frozenset[str]] | None = None,
) -> Tracking:
    """Match communities across *windows* (in time order); see the module docstring.

    *initial* seeds the fronts (e.g. the communities of a previous run, by their ids),
    so that ids stay stable from run to run; new ids start after the largest one.
    """
    if not 0 < threshold <= 1:
        raise InputError("must be in (0, 1]", field="threshold")
    if not 0 < containment <= 1:
        raise InputError("must be in (0, 1]", field="containment")
    if death_after < 1 or growth <= 1:
        raise InputError("death_after must be >= 1 and growth > 1", field="death_after")
    fronts: dict[int, frozenset[str]] = dict(initial or {})
    missed: dict[int, int] = {}
    next_id = max(fronts) + 1 if fronts else 0
    seeded = bool(fronts)
    hist: dict[str, list] = {f.name: [] for f in HISTORY_SCHEMA}
    ev: dict[str, list] = {f.name: [] for f in EVENT_SCHEMA}

    def event(
        w: int, label: str, kind: str, ids: list[int], src: list[int], j: float | None
    ) -> None:
        for name, val in zip(EVENT_SCHEMA.names, (label, w, kind, ids, src, j), strict=True):
            ev[name].append(val)

    for w, win in enumerate(windows):
        steps = win.communities
        inter = _overlaps(steps, fronts)
        jac = {(s, f): n / (len(steps[s]) + len(fronts[f]) - n) for (s, f), n in inter.items()}
        sims = {p: j for p, j in jac.items() if j >= threshold}
        # a split child / merged front may be small next to its parent / result: besides
        # Jaccard ≥ θ, a share ≥ `containment` of the smaller side also links them
        child_of = {p for p, n in inter.items() if p in sims or n >= containment * len(steps[p[0]])}
        merged_into = {
            p for p, n in inter.items() if p in sims or n >= containment * len(fronts[p[1]])
        }
        # greedy one-to-one continuation by decreasing Jaccard
        cont: dict[int, int] = {}
        used: set[int] = set()
        for _, s, f in sorted(
            ((j, s, f) for (s, f), j in sims.items()), key=lambda x: (-x[0], x[1], x[2])
        ):
            if s not in cont and f not in used:
                cont[s] = f
                used.add(f)
        assigned: dict[int, int] = {}
        splits: dict[int, list[tuple[int, float]]] = {}
        for s in sorted(steps):
            if s in cont:
                f = cont[s]
                assigned[s] = f
                before, after = len(fronts[f]), len(steps[s])
                if after >= growth * before:
                    event(w, win.label, "growth", [f], [f], sims[(s, f)])
                elif after * growth <= before:
                    event(w, win.label, "shrink", [f], [f], sims[(s, f)])
                continue
            parents = [f for (s2, f) in child_of if s2 == s]
            assigned[s] = next_id
            if parents:
                best = max(parents, key=lambda f: (inter[(s, f)], jac[(s, f)], -f))
                splits.setdefault(best, []).append((next_id, jac[(s, best)]))
            elif w > 0 or seeded:
                event(w, win.label, "birth", [next_id], [], None)
            next_id += 1
        continued_from = {f: s for s, f in cont.items()}
        for parent, kids in sorted(splits.items()):
            ids = ([parent] if parent in continued_from else []) + [c for c, _ in kids]
            event(w, win.label, "split", ids, [parent], max(j for _, j in kids))
        # fronts not continued: merged into a step community, or missed
        merged: dict[int, list[tuple[int, float]]] = {}
        for f in sorted(set(fronts) - used):
            into = [s for (s, f2) in merged_into if f2 == f]
            if into:
                s = max(into, key=lambda s: (inter[(s, f)], jac[(s, f)], -s))
                merged.setdefault(s, []).append((f, jac[(s, f)]))
                fronts.pop(f)
                missed.pop(f, None)
            else:
                missed[f] = missed.get(f, 0) + 1
                if missed[f] >= death_after:
                    event(w, win.label, "death", [f], [f], None)
                    fronts.pop(f)
                    missed.pop(f)
        for s, srcs in sorted(merged.items()):
            sources = sorted({f for f, _ in srcs} | ({cont[s]} if s in cont else set()))
            event(w, win.label, "merge", [assigned[s]], sources, max(j for _, j in srcs))
        for s, cid in assigned.items():
            fronts[cid] = steps[s]
            missed.pop(cid, None)
            hist["window"].append(win.label)
            hist["window_index"].append(w)
            hist["local_id"].append(int(s))
            hist["community_id"].append(int(cid))
            hist["size"].append(len(steps[s]))
            hist["jaccard"].append(sims.get((s, cid)) if s in cont else None)
    return Tracking(
        pa.table(hist, schema=HISTORY_SCHEMA), pa.table(ev, schema=EVENT_SCHEMA), fronts, next_id
    )


def stable_ids(
    current: dict[int, frozenset[str]],
    known: dict[int, frozenset[str]] | list[dict[int, frozenset[str]]],
    *,
    threshold: float = 0.3,
    next_id: int | None = None,
) -> dict[int, int]:
    """Map current local ids to *known* ids by one-to-one best Jaccard (≥ *threshold*);
    the rest get fresh ids after the largest known id (or from *next_id*).

    *known* may be a list of id → members maps in priority order (e.g. the previous
    run's communities first, then the tracked ones): each later map only serves the
    communities and ids the earlier ones left unmatched.
    """
    tiers = known if isinstance(known, list) else [known]
    out: dict[int, int] = {}
    used: set[int] = set()
    for tier in tiers:
        left = {s: m for s, m in current.items() if s not in out}
        sims = _similarities(left, {f: m for f, m in tier.items() if f not in used}, threshold)
        for _, s, f in sorted(
            ((j, s, f) for (s, f), j in sims.items()), key=lambda x: (-x[0], x[1], x[2])
        ):
            if s not in out and f not in used:
                out[s] = f
                used.add(f)
    ids = [i for tier in tiers for i in tier]
    nxt = next_id if next_id is not None else (max(ids) + 1 if ids else 0)
    for s in sorted(current):
        if s not in out:
            out[s] = nxt
            nxt += 1
    return out


def _overlaps(
    steps: dict[int, frozenset[str]], fronts: dict[int, frozenset[str]]
) -> dict[tuple[int, int], int]:
    """Shared member counts of every overlapping (step, front) pair (inverted index)."""
    index: dict[str, list[int]] = {}
    for f, members in fronts.items():
        for m in members:
            index.setdefault(m, []).append(f)
    out: dict[tuple[int, int], int] = {}
    for s, members in steps.items():
        for m in members:
            for f in index.get(m, ()):
                out[(s, f)] = out.get((s, f), 0) + 1
    return out


def _similarities(
    steps: dict[int, frozenset[str]], fronts: dict[int, frozenset[str]], threshold: float
) -> dict[tuple[int, int], float]:
    """Jaccard ≥ threshold between step communities and fronts."""
    out = {}
    for (s, f), n in _overlaps(steps, fronts).items():
        j = n / (len(steps[s]) + len(fronts[f]) - n)
        if j >= threshold:
            out[(s, f)] = j
    return out


HISTORY_SCHEMA = pa.schema(
    [
        ("window", pa.string()),
        ("window_index", pa.int64()),
        ("local_id", pa.int64()),
        ("community_id", pa.int64()),
        ("size", pa.int64()),
        ("jaccard", pa.float64()),
    ]
)
EVENT_SCHEMA = pa.schema(
    [
        ("window", pa.string()),
        ("window_index", pa.int64()),
        ("kind", pa.string()),
        ("community_ids", pa.list_(pa.int64())),
        ("sources", pa.list_(pa.int64())),
        ("jaccard", pa.float64()),
    ]
)
