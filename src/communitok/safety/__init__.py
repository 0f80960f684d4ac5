"""Safety: comment moderation, visibility labels, reports, community health, privacy.

- :class:`ModerationModel` / :func:`load_default_model` — offline classifier of comments
  into hate / offensive / spam / ok with calibrated probabilities and per-category
  thresholds (TF-IDF word + character n-grams, NB-SVM scorers; model shipped in
  ``safety/models/moderation.npz``).
- :func:`model_decisions`, :func:`reviewer_decision`, :func:`current_visibility` — the
  append-only decision log and the visibility label in force (separate from ranking).
- :func:`make_reports`, :func:`review_queue` — viewer reports, queue by severity × reach.
- :func:`safety_health` — per-community flagged shares, reports per 1k views, trend.
- :func:`k_anonymous_aggregate`, :class:`PartnerAggregate`, :func:`for_partners` —
  the one privacy guard every partner-facing figure goes through.

Only :mod:`communitok.core` is imported here; everything is pure except the explicit
file functions (:meth:`ModerationModel.save` / ``load``, :mod:`.datasets`).
See ``docs/safety.md``.
"""

from .baseline import WordListFilter
from .health import HealthReport, safety_health
from .model import (
    CATEGORIES,
    FLAGS,
    ModerationModel,
    choose_thresholds,
    decide,
    default_model_path,
    load_default_model,
)
from .privacy import (
    DEFAULT_K,
    PARTNER_FACING,
    PartnerAggregate,
    for_partners,
    k_anonymous_aggregate,
    partner_safety_health,
)
from .reports import REPORT_REASONS, REPORT_SCHEMA, make_reports, review_queue
from .text import mask_lingo, normalize
from .visibility import (
    DECISION_SCHEMA,
    SEVERITY,
    VisibilityPolicy,
    current_visibility,
    model_decisions,
    reviewer_decision,
)

__all__ = [
    "CATEGORIES",
    "DECISION_SCHEMA",
    "DEFAULT_K",
    "FLAGS",
    "PARTNER_FACING",
    "REPORT_REASONS",
    "REPORT_SCHEMA",
    "SEVERITY",
    "HealthReport",
    "ModerationModel",
    "PartnerAggregate",
    "VisibilityPolicy",
    "WordListFilter",
    "choose_thresholds",
    "current_visibility",
    "decide",
    "default_model_path",
    "for_partners",
    "k_anonymous_aggregate",
    "load_default_model",
    "make_reports",
    "mask_lingo",
    "model_decisions",
    "normalize",
    "partner_safety_health",
    "review_queue",
    "reviewer_decision",
    "safety_health",
]
