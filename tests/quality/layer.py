"""The whole quality layer in one call, in the order the Dagster assets run it.

Used by the benchmark and the tests; the Dagster assets call the same stage functions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from expectations.stage import ChecksOutcome, run_checks
from expectations.suites import check_descriptions
from ticket_audit.config import AuditConfig
from ticket_audit.quality.duplicates import run_duplicates
from ticket_audit.quality.label_consistency import run_label_consistency
from ticket_audit.quality.summary import run_quality_summary
from ticket_audit.quality.variability import run_reply_variability

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class LayerRun:
    summary: dict
    checks: ChecksOutcome
    seconds: dict[str, float] = field(default_factory=dict)


def run_quality_layer(
    cfg: AuditConfig,
    *,
    output_dir: Path | None = None,
    bounds: tuple[date, date] | None = None,
    progress: Progress = log.info,
    stage_hook: Callable[[str], None] | None = None,
) -> LayerRun:
    """Checks (all months) -> duplicates -> label consistency -> variability -> summary."""
    output_dir = Path(output_dir) if output_dir else cfg.output_dir
    seconds: dict[str, float] = {}

    def stage(name: str, fn, *args, **kwargs):
        t0 = time.perf_counter()
        value = fn(*args, **kwargs)
        seconds[name] = time.perf_counter() - t0
        if stage_hook:
            stage_hook(name)
        return value

    checks = stage(
        "quality_checks",
        run_checks,
        cfg,
        bounds=bounds,
        docs_dir=output_dir / "data_docs",
        progress=progress,
    )
    stage("duplicate_tickets", run_duplicates, cfg, progress)
    stage("label_consistency", run_label_consistency, cfg, progress)
    stage("reply_variability", run_reply_variability, cfg, progress)
    summary = stage("quality_summary", run_quality_summary, cfg, check_descriptions(cfg), progress)
    return LayerRun(summary, checks, seconds)
