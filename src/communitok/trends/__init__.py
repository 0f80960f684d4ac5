"""Trends: burst detection, lifecycle, forecasting, spill-over and the Discover view.

All functions are pure: they take Arrow tables / numpy and return Arrow tables (the
engine computes the series in the store, see ``communitok.engine.trends``).

* :func:`to_matrix` → :class:`SeriesMatrix` (dense series × bins, repairs flagged);
* :class:`BurstDetector` (Kleinberg two-state automaton on a seasonal baseline);
* :class:`LifecycleClassifier` (emerging, rising, peaking, declining, evergreen);
* :class:`Forecaster` (Theta / damped trend, back-tested against naive and
  seasonal-naive, intervals calibrated from back-test errors);
* :func:`detect_spillover` and :func:`discover`.
"""

from .bursts import BurstDetector, detect_bursts, new_entries, topk_alarms
from .discover import discover
from .forecast import Forecaster, ForecastReport, evaluate_holdout, point_forecast
from .lifecycle import STAGES, LifecycleClassifier, lifecycle
from .planted import BurstScore, Planted, planted_series, score_bursts
from .series import SeriesIssues, SeriesMatrix, seasonal_profile, step_us, to_matrix
from .spillover import detect_spillover, score_spillover

__all__ = [
    "STAGES",
    "BurstDetector",
    "BurstScore",
    "ForecastReport",
    "Forecaster",
    "LifecycleClassifier",
    "Planted",
    "SeriesIssues",
    "SeriesMatrix",
    "detect_bursts",
    "detect_spillover",
    "discover",
    "evaluate_holdout",
    "lifecycle",
    "new_entries",
    "planted_series",
    "point_forecast",
    "score_bursts",
    "score_spillover",
    "seasonal_profile",
    "step_us",
    "to_matrix",
    "topk_alarms",
]
