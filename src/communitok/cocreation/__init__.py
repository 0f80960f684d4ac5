"""Co-creation cascades: duet / stitch / sound-reuse trees and their metrics.

* :func:`build_forest` turns ``cocreation_links`` (and videos, for sound attribution)
  into a clean forest, flagging self links, cycles, unknown parents and clock errors;
* :func:`cascade_metrics`: size, depth, breadth, structural virality (exact, linear
  time), time to half size, communities reached; :func:`creator_sparks` per creator;
* :class:`SeismicPredictor` (final size from the first hour) and
  :class:`DoublingPredictor` (will it double?).
"""

from .links import DEFAULT_KINDS, SOUND_RULES, Forest, attribute_sound_reuse, build_forest
from .metrics import (
    Distribution,
    Structure,
    cascade_metrics,
    creator_sparks,
    distribution,
    node_table,
    tree_structure,
)
from .planted import hawkes_cascades
from .predict import (
    DoublingPredictor,
    DoublingReport,
    Kernel,
    SeismicPredictor,
    doubling_features,
    seismic_predict,
)

__all__ = [
    "DEFAULT_KINDS",
    "SOUND_RULES",
    "Distribution",
    "DoublingPredictor",
    "DoublingReport",
    "Forest",
    "Kernel",
    "SeismicPredictor",
    "Structure",
    "attribute_sound_reuse",
    "build_forest",
    "cascade_metrics",
    "creator_sparks",
    "distribution",
    "doubling_features",
    "hawkes_cascades",
    "node_table",
    "seismic_predict",
    "tree_structure",
]
