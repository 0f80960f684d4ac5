"""Demo section: the partner flow on the simulated platform — a brief, the listening
report of the best match, and what a week-long campaign there could detect."""

from __future__ import annotations

from typing import Any

from ...core.errors import CommunitokError
from ...insights import Brief
from .listen import listen
from .match import match_brief
from .plan import plan_campaign


def _demo_section(eng: Any, truth: Any, console: Any) -> None:
    if not eng.store.has_result("community_members"):
        console.print("no communities detected: partner insights skipped")
        return
    base = [c for c in truth.communities if c.kind == "base"] or list(truth.communities)
    planted = max(base, key=lambda c: c.size_weight)
    stem = planted.name.removesuffix("tok")
    k = int(getattr(eng.settings, "privacy_k", 50))
    try:
        rep = match_brief(eng.store, Brief(f"{stem} lovers"), k=k, top_n=3)
    except CommunitokError as exc:
        console.print(f"brief '{stem} lovers': {exc}")
        return
    rows = rep.matches.to_pylist()
    if not rows:
        console.print(f"every match is under the privacy threshold k={k}")
        return
    best = rows[0]
    console.print(f"brief '{stem} lovers' → {best['name']} (score {best['score']:.2f}, "
                  f"{best['n_people']:,} viewers; why: {best['matched_hashtags']})")  # fmt: skip
    d = listen(eng.store, best["community_id"], k=k).to_dict()
    tags = ", ".join(f"#{r['item']} ({r['share']:.0%})" for r in d["top_hashtags"][:5])
    lingo = ", ".join(r["term"] for r in d["lingo"][:5]) or "—"
    console.print(f"listening: top {tags}; lingo {lingo}; "
                  f"{len(d['rising_hashtags'])} rising hashtags this week")  # fmt: skip
    p = plan_campaign(eng.store, best["community_id"], k=k).to_dict()
    if p["status"] == "ok":
        console.print(f"a randomised 7-day campaign there detects a lift of "
                      f"{p['plan']['mde']:.0%} (80 % power, {p['plan']['reach']:,} viewers)")  # fmt: skip


def _register_demo() -> None:
    from ..demo import section

    section("Partner insights")(_demo_section)
