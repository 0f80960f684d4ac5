"""``communitok insights …``: the partner commands under their first names (aliases of
``communitok partner``): ``match``, ``listen``, ``brief`` (= ``content-brief``),
``ambassadors``, ``overlap``, ``campaign``."""

from __future__ import annotations

from .partner import COMMANDS, build

app = build(
    "Alias of `communitok partner` (brief = content-brief).",
    {**{n: n for n in COMMANDS}, "brief": "content-brief"},
)
