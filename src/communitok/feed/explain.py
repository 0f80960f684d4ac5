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
        out: list[tuple[str, Reason]] = []
        labels = list(ranks)
        viewer = ViewerRow.of(req, row, catalogue)
        for pos, item in enumerate(items):
            label = None
            if explore_flags is not None and explore_flags[pos]:
                label = next(
                    (
                        lab
                        for lab in labels
                        if lab in self.explore_sources and np.isfinite(ranks[lab][pos])
                    ),
                    None,
                )
            if label is None and labels:
                r = np.asarray([ranks[lab][pos] for lab in labels])
                if np.isfinite(r).any():
                    label = labels[int(np.argmin(r))]
            if label is None:
                out.append(("fallback", FALLBACK_REASON))
                continue
            out.append((label, sources[label].explain(viewer, int(item))))
        return out
