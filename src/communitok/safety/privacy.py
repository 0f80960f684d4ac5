"""Privacy thresholds for partner-facing figures: one k-anonymity guard, no way around it.

Rule: any aggregate built from fewer than ``k`` distinct people (viewers, commenters,
reporters — whoever the rows are about) is suppressed; ``k`` comes from
:attr:`communitok.core.settings.Settings.privacy_k` (default 50).

How "no bypass" is enforced:

1. :class:`PartnerAggregate` is the only type a partner-facing function may return, and
   only :func:`k_anonymous_aggregate` can build one (the constructor demands a private
   token); the constructor re-checks that every row has ``n_people >= k``.
2. Partner-facing functions are named ``partner_*`` and wrapped with
   :func:`for_partners`, which registers them in :data:`PARTNER_FACING` and raises if
   one returns anything but a :class:`PartnerAggregate`. A test walks every module of
   the package and fails on a ``partner_*`` function that is not registered.
3. Joins of two guarded aggregates (:meth:`PartnerAggregate.join`) keep the guard.

Suppression of small cells is the threshold rule of statistical disclosure control
(Hundepool et al., "Statistical Disclosure Control", Wiley 2012, ch. 5) and of
k-anonymity (Sweeney, "k-anonymity: a model for protecting privacy", IJUFKS 2002).
Known limit: it does not stop differencing attacks across *different* queries (e.g. a
total minus the published cells); partner endpoints therefore publish no totals that
include suppressed cells (see ``docs/safety.md``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec

import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from ..core.settings import Settings
from .health import comment_communities, flagged_categories

#: Default k (the settings default).
DEFAULT_K: int = Settings().privacy_k
PEOPLE = "n_people"
_AGGS = {"sum": "sum", "mean": "mean", "count": "count", "max": "max", "min": "min"}
_TOKEN = object()

#: Every partner-facing function, by qualified name.
PARTNER_FACING: dict[str, Callable[..., PartnerAggregate]] = {}


class PartnerAggregate:
    """An aggregate a partner may see: every row covers at least ``k`` distinct people."""

    __slots__ = ("_k", "_suppressed", "_table")

    def __init__(self, table: pa.Table, k: int, suppressed: int, *, _token: object = None):
        if _token is not _TOKEN:
            raise TypeError("PartnerAggregate is built only by k_anonymous_aggregate()")
        if PEOPLE not in table.column_names:
            raise InputError(f"a partner aggregate needs a {PEOPLE!r} column")
        if table.num_rows and pc.min(table[PEOPLE]).as_py() < k:
            raise InputError(f"a partner aggregate row covers fewer than k={k} people")
        self._table, self._k, self._suppressed = table, k, suppressed

    @property
    def table(self) -> pa.Table:
        """The published rows (Arrow tables are immutable)."""
        return self._table

    @property
    def k(self) -> int:
        return self._k

    @property
    def suppressed(self) -> int:
        """How many groups were withheld for covering fewer than ``k`` people."""
        return self._suppressed

    def to_pylist(self) -> list[dict[str, Any]]:
        return self._table.to_pylist()

    def join(self, other: PartnerAggregate, on: Sequence[str]) -> PartnerAggregate:
        """Inner join of two guarded aggregates; ``n_people`` becomes the smaller count."""
        right = other.table.rename_columns(
            [f"{c}__r" if c == PEOPLE else c for c in other.table.column_names]
        )
        t = self._table.join(right, list(on), join_type="inner")
        t = t.set_column(
            t.schema.get_field_index(PEOPLE),
            PEOPLE,
            pc.min_element_wise(t[PEOPLE], t[f"{PEOPLE}__r"]),
        ).drop_columns([f"{PEOPLE}__r"])
        return PartnerAggregate(
            t.sort_by([(c, "ascending") for c in on]),
            max(self._k, other.k),
            self._suppressed + other.suppressed,
            _token=_TOKEN,
        )

    def __repr__(self) -> str:
        return f"PartnerAggregate(rows={self._table.num_rows}, k={self._k}, suppressed={self._suppressed})"


def check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"must be an integer >= 1, got {k!r}", field="k")
    return k


def k_anonymous_aggregate(
    rows: pa.Table,
    *,
    by: Sequence[str],
    person: str,
    metrics: Mapping[str, tuple[str, str]],
    k: int = DEFAULT_K,
) -> PartnerAggregate:
    """Group *rows* by *by*, aggregate *metrics* and suppress groups under *k* people.

    *metrics* maps an output name to ``(column, aggregation)`` with aggregation one of
    ``sum``, ``mean``, ``count``, ``min``, ``max``. *person* names the column that
    identifies the individual each row is about; null persons do not count towards k.
    """
    k = check_k(k)
    missing = [
        c for c in (*by, person, *(c for c, _ in metrics.values())) if c not in rows.column_names
    ]
    if missing:
        raise InputError(f"unknown columns {missing}", field="rows")
    for name, (_, agg) in metrics.items():
        if agg not in _AGGS:
            raise InputError(f"unknown aggregation {agg!r}", field=name)
        if name in (*by, PEOPLE):
            raise InputError("metric name clashes with a group or n_people column", field=name)
    specs: list[Any] = [(person, "count_distinct", pc.CountOptions(mode="only_valid"))]
    specs += [(col, _AGGS[agg]) for col, agg in metrics.values()]
    g = rows.group_by(list(by)).aggregate(specs)
    renamed = {f"{person}_count_distinct": PEOPLE}
    for name, (col, agg) in metrics.items():
        renamed[f"{col}_{_AGGS[agg]}"] = name
    cols = [renamed.get(c, c) for c in g.column_names]
    if len(set(cols)) != len(cols):
        raise InputError("two metrics aggregate the same column the same way", field="metrics")
    g = g.rename_columns(cols).select([*by, PEOPLE, *metrics])
    keep = pc.greater_equal(g[PEOPLE], k)
    published = g.filter(keep).sort_by([(c, "ascending") for c in by])
    return PartnerAggregate(published, k, g.num_rows - published.num_rows, _token=_TOKEN)


P = ParamSpec("P")


def for_partners(fn: Callable[P, PartnerAggregate]) -> Callable[P, PartnerAggregate]:
    """Register *fn* as partner-facing; it must return a :class:`PartnerAggregate`."""
    if not fn.__name__.startswith("partner_"):
        raise InputError("partner-facing functions are named partner_*", field=fn.__name__)

    @functools.wraps(fn)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> PartnerAggregate:
        out = fn(*args, **kwargs)
        if not isinstance(out, PartnerAggregate):
            raise TypeError(f"{fn.__qualname__} must return a PartnerAggregate")
        return out

    guarded.__partner_facing__ = True  # type: ignore[attr-defined]
    PARTNER_FACING[f"{fn.__module__}.{fn.__qualname__}"] = guarded
    return guarded


@for_partners
def partner_safety_health(
    comments: pa.Table, labels: pa.Table, membership: pa.Table, *, k: int = DEFAULT_K
) -> PartnerAggregate:
    """Per-community comment safety shares for partners, over ≥ k distinct commenters.

    Inputs as :func:`~communitok.safety.health.safety_health` plus ``comments.user_id``;
    comments without a commenter do not count towards k.
    """
    flagged = flagged_categories(labels)
    rows, comms = comment_communities(membership, comments)
    cids = comments["comment_id"].to_pylist()
    users = comments["user_id"].to_pylist()
    cats = [flagged.get(str(cids[i]), "ok") for i in rows]
    t = pa.table(
        {
            "community": pa.array(list(comms), pa.string()),
            "user_id": pa.array([users[i] for i in rows], pa.string()),
            **{
                f"is_{c}": pa.array([float(x == c) for x in cats], pa.float64())
                for c in ("hate", "offensive", "spam")
            },
            "is_flagged": pa.array([float(x != "ok") for x in cats], pa.float64()),
            "one": pa.array([1] * len(cats), pa.int64()),
        }
    )
    return k_anonymous_aggregate(
        t,
        by=["community"],
        person="user_id",
        metrics={
            "comments": ("one", "sum"),
            "share_hate": ("is_hate", "mean"),
            "share_offensive": ("is_offensive", "mean"),
            "share_spam": ("is_spam", "mean"),
            "share_flagged": ("is_flagged", "mean"),
        },
        k=k,
    )
