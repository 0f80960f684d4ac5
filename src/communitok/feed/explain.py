"""Explainer stage: one reason per served video ("why am I seeing this").

The reason comes from the source that ranked the video highest among those that
proposed it (exploration slots from the exploration source, fallback fills from
popularity), phrased by that source: "because you watched X", "trending in
<community>", "new creator you may like", "from <creator>, whom you follow", …
Cf. Tintarev & Masthoff, "A Survey of Explanations in Recommender Systems", 2007.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .data import Catalogue
from .stages import CandidateSource, Reason, RequestBatch, Stage, ViewerRow

FALLBACK_REASON = Reason("popular", "popular right now")


class Explainer(Stage):
    """Picks the explaining source per served video and asks it for the reason."""

    name: ClassVar[str] = "explain"

    def __init__(self, explore_sources: tuple[str, ...] = ("explore",)) -> None:
        self.explore_sources = tuple(explore_sources)

    def explain(
        self,
        req: RequestBatch,
        row: int,
        items: np.ndarray,
        ranks: dict[str, np.ndarray],
        sources: dict[str, CandidateSource],
        catalogue: Catalogue,
        explore_flags: np.ndarray | None = None,
    ) -> list[tuple[str, Reason]]:
        """(source label, reason) per served item. ``ranks[label]`` holds each item's rank
        in that source's candidate list (inf when the source did not propose it)."""
        labels = list(ranks)
        viewer = ViewerRow.of(req, row, catalogue)
        m = len(items)
        out: list[tuple[str, Reason]] = [("fallback", FALLBACK_REASON)] * m
        if not labels or not m:
            return out
        # per item, the source that ranked it best (first such label on ties); in an
        # exploration slot, the first exploration source that proposed it
        R = np.asarray([ranks[lab] for lab in labels])
        fin = np.isfinite(R)
        chosen = np.where(fin.any(axis=0), np.argmin(R, axis=0), -1)
        ex_rows = [i for i, lab in enumerate(labels) if lab in self.explore_sources]
        if explore_flags is not None and ex_rows:
            E = fin[ex_rows]
            first = np.asarray(ex_rows)[np.argmax(E, axis=0)]
            chosen = np.where(np.asarray(explore_flags, bool) & E.any(axis=0), first, chosen)
        items = np.asarray(items)
        # the served positions of each explaining source, sources in order of first use
        groups: dict[int, list[int]] = {}
        for p, c in enumerate(chosen.tolist()):
            if c >= 0:
                groups.setdefault(c, []).append(p)
        for c, at in groups.items():
            label = labels[c]
            reasons = sources[label].explain_many(viewer, items[np.asarray(at, np.int64)])
            for p, reason in zip(at, reasons, strict=True):
                out[p] = (label, reason)
        return out
