"""The k-anonymity guard: suppression, no direct construction, no unregistered bypass."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pyarrow as pa
import pytest

import communitok
from communitok.core.errors import InputError
from communitok.core.settings import Settings
from communitok.safety import (
    DEFAULT_K,
    PARTNER_FACING,
    PartnerAggregate,
    for_partners,
    k_anonymous_aggregate,
    partner_safety_health,
)


def _rows(sizes: dict[str, int]) -> pa.Table:
    comm, person, val = [], [], []
    for c, n in sizes.items():
        for i in range(n):
            comm += [c, c]  # two rows per person: distinct people, not rows, count
            person += [f"{c}-p{i}", f"{c}-p{i}"]
            val += [1.0, 0.0]
    return pa.table({"community": comm, "viewer_id": person, "x": val})


def test_default_k_is_the_settings_default() -> None:
    assert DEFAULT_K == Settings().privacy_k == 50


def test_groups_under_k_are_suppressed() -> None:
    agg = k_anonymous_aggregate(
        _rows({"big": 50, "small": 49, "tiny": 1}),
        by=["community"], person="viewer_id", metrics={"mean_x": ("x", "mean")}, k=50,
    )  # fmt: skip
    assert [r["community"] for r in agg.to_pylist()] == ["big"]
    assert agg.suppressed == 2 and agg.k == 50
    assert agg.to_pylist()[0]["n_people"] == 50 and agg.to_pylist()[0]["mean_x"] == 0.5


def test_null_people_do_not_count() -> None:
    t = pa.table({"community": ["a"] * 5, "viewer_id": [None] * 4 + ["p"], "x": [1.0] * 5})
    agg = k_anonymous_aggregate(t, by=["community"], person="viewer_id", metrics={}, k=2)
    assert agg.table.num_rows == 0 and agg.suppressed == 1


def test_cannot_build_or_fake_a_partner_aggregate() -> None:
    with pytest.raises(TypeError):
        PartnerAggregate(pa.table({"n_people": [1]}), 50, 0)
    with pytest.raises(InputError):
        k_anonymous_aggregate(_rows({"a": 3}), by=["community"], person="viewer_id",
                              metrics={}, k=0)  # fmt: skip
    with pytest.raises(InputError):
        k_anonymous_aggregate(_rows({"a": 3}), by=["community"], person="nope", metrics={})


def test_join_keeps_the_guard() -> None:
    a = k_anonymous_aggregate(_rows({"x": 60, "y": 80}), by=["community"], person="viewer_id",
                              metrics={"s": ("x", "sum")}, k=50)  # fmt: skip
    b = k_anonymous_aggregate(_rows({"x": 55, "y": 10}), by=["community"], person="viewer_id",
                              metrics={"m": ("x", "mean")}, k=50)  # fmt: skip
    j = a.join(b, on=["community"])
    assert j.to_pylist() == [{"community": "x", "n_people": 55, "s": 60.0, "m": 0.5}]
    assert isinstance(j, PartnerAggregate) and j.suppressed == 1


def test_partner_facing_refuses_unguarded_results() -> None:
    with pytest.raises(InputError):

        @for_partners
        def leaky(t: pa.Table) -> PartnerAggregate:  # not named partner_*
            return t  # type: ignore[return-value]

    @for_partners
    def partner_leaky(t: pa.Table) -> PartnerAggregate:
        return t  # type: ignore[return-value]

    try:
        with pytest.raises(TypeError):
            partner_leaky(pa.table({"a": [1]}))
    finally:
        PARTNER_FACING.pop(
            f"{__name__}.test_partner_facing_refuses_unguarded_results.<locals>.partner_leaky", None
        )


def _all_partner_functions() -> dict[str, object]:
    """Every ``partner_*`` function defined anywhere in the communitok package."""
    found: dict[str, object] = {}
    for mod in pkgutil.walk_packages(communitok.__path__, "communitok."):
        try:
            m = importlib.import_module(mod.name)
        except ImportError:  # optional extras (api, spark…) not installed
            continue
        for name, obj in vars(m).items():
            if (
                name.startswith("partner_")
                and inspect.isfunction(obj)
                and obj.__module__ == m.__name__
            ):
                found[f"{m.__name__}.{obj.__qualname__}"] = obj
    return found


INTERFACES = ("communitok.api", "communitok.cli", "communitok.dashboard")


def test_every_partner_function_goes_through_the_guard() -> None:
    """Library ``partner_*`` functions are registered and return a PartnerAggregate;
    interface ``partner_*`` functions (API routes, CLI commands, pages) serialise one, so
    their source must call a registered partner function."""
    funcs = _all_partner_functions()
    assert "communitok.safety.privacy.partner_safety_health" in funcs
    assert "communitok.engine.safety.partner_community_safety" in funcs
    registered = {fn.__name__ for fn in PARTNER_FACING.values()}
    for qual, fn in funcs.items():
        if qual.startswith(INTERFACES):
            src = inspect.getsource(fn)  # type: ignore[arg-type]
            assert any(f"{name}(" in src for name in registered), (
                f"{qual} must serve a registered partner function ({sorted(registered)})"
            )
            continue
        assert getattr(fn, "__partner_facing__", False), f"{qual} is not @for_partners"
        assert qual in PARTNER_FACING
        ret = inspect.signature(fn).return_annotation
        assert "PartnerAggregate" in str(ret), f"{qual} must be annotated -> PartnerAggregate"


def test_partner_safety_health_suppresses_small_communities() -> None:
    n_big, n_small = 60, 12
    cids = [f"c{i}" for i in range(n_big + n_small)]
    comments = pa.table(
        {
            "comment_id": cids,
            "video_id": ["vb"] * n_big + ["vs"] * n_small,
            "user_id": [f"u{i}" for i in range(n_big + n_small)],
        }
    )
    labels = pa.table(
        {"item_id": ["c0", "c1"], "category": ["hate", "spam"], "label": ["hidden"] * 2}
    )
    members = pa.table({"video_id": ["vb", "vs"], "community": ["big", "small"]})
    agg = partner_safety_health(comments, labels, members, k=50)
    rows = agg.to_pylist()
    assert [r["community"] for r in rows] == ["big"] and agg.suppressed == 1
    assert rows[0]["share_flagged"] == pytest.approx(2 / 60) and rows[0]["comments"] == 60
    assert partner_safety_health(comments, labels, members, k=10).table.num_rows == 2
