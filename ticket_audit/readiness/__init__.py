"""Readiness: the layers combined under configured thresholds into a verdict, kept in history."""

from ticket_audit.readiness.assemble import REQUIRED_KEYS, build_scorecard
from ticket_audit.readiness.history import (
    category_mix,
    mix_drift,
    previous_audits,
    record_audit,
    trends,
)
from ticket_audit.readiness.rules import VERDICTS, evaluate, layer_scores

__all__ = [
    "REQUIRED_KEYS",
    "VERDICTS",
    "build_scorecard",
    "category_mix",
    "evaluate",
    "layer_scores",
    "mix_drift",
    "previous_audits",
    "record_audit",
    "trends",
]
