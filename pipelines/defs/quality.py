"""Quality layer: expectation suites per month, duplicates, label consistency, reply
variability and the `quality` summary (docs/quality.md).

Metadata and logs carry counts and ticket ids only: Dagster's event log is outside the
restricted zone.
"""

from datetime import date

import dagster as dg

from expectations.stage import run_checks
from expectations.suites import check_descriptions
from expectations.suites import tolerance as suite_tolerance
from pipelines.defs.partitions import monthly_partitions
from pipelines.defs.resources import AuditResource
from ticket_audit.quality.duplicates import run_duplicates
from ticket_audit.quality.label_consistency import run_label_consistency
from ticket_audit.quality.summary import run_quality_summary
from ticket_audit.quality.variability import ALL, run_reply_variability

GROUP = "quality"

# Blocking: when these fail, every number downstream is meaningless.
CHECKS_COVER_WINDOW = "checks_cover_every_ticket"
GX_MATCHES_SQL = "gx_matches_sql_flags"
# Findings about the data: a suite fails when one of its checks misses the scorecard's
# threshold over the window (expectations.suites.tolerance), with the severity the scorecard
# gives that threshold's check: a condition warns, a blocker is an error.
SUITE_SCORECARD_CHECK = {
    "tagging": "tagging_coverage",
    "metadata": "metadata_completeness",
    "timestamps": "metadata_completeness",
    "text": "metadata_completeness",
}
SUITE_CHECKS = {
    "tagging": "tagging_suite_passes",
    "metadata": "metadata_suite_passes",
    "timestamps": "timestamps_suite_passes",
    "text": "text_suite_passes",
}


def _bounds() -> tuple[date, date] | None:
    keys = monthly_partitions.get_partition_keys()
    if not keys:
        return None
    return date.fromisoformat(keys[0]), date.fromisoformat(keys[-1])


@dg.asset(
    partitions_def=monthly_partitions,
    deps=["canonical_tickets"],
    group_name=GROUP,
    kinds={"duckdb", "great_expectations"},
    check_specs=[
        dg.AssetCheckSpec(
            CHECKS_COVER_WINDOW,
            asset="quality_checks",
            blocking=True,
            description="every suite validated every ticket of the partition window",
        ),
        dg.AssetCheckSpec(
            GX_MATCHES_SQL,
            asset="quality_checks",
            blocking=True,
            description="GX unexpected counts equal the per-ticket SQL flags the funnel uses",
        ),
        *(
            dg.AssetCheckSpec(
                name,
                asset="quality_checks",
                description=f"every {suite} check passes for the scorecard's share of the "
                "window's tickets (GX `mostly`)",
            )
            for suite, name in SUITE_CHECKS.items()
        ),
    ],
)
def quality_checks(context: dg.AssetExecutionContext, audit: AuditResource):
    """GX suites (tagging, metadata, timestamps, text) per month of the window:
    audit.quality_check_results, audit.quality_check_violations and GX Data Docs."""
    cfg = audit.load()
    window = context.partition_time_window
    months = (window.start.date(), window.end.date())
    outcome = run_checks(
        cfg,
        months=months,
        bounds=_bounds(),
        docs_dir=audit.output_path() / "data_docs",
        progress=context.log.info,
    )
    mismatches = outcome.mismatches()
    by_suite = outcome.by_suite()
    yield dg.MaterializeResult(
        metadata={
            "tickets": outcome.tickets,
            "months": len(outcome.tickets_by_month),
            "unexpected_by_check": dg.MetadataValue.json(by_suite),
            "seconds": dg.MetadataValue.json({k: round(v, 2) for k, v in outcome.timings.items()}),
            "data_docs": dg.MetadataValue.path(str(outcome.docs_index or "")),
        }
    )
    uncovered = [m for m in mismatches if m["gx_elements"] != m["tickets"] or m["raised"]]
    yield dg.AssetCheckResult(
        check_name=CHECKS_COVER_WINDOW,
        passed=not uncovered,
        metadata={"tickets": outcome.tickets, "problems": dg.MetadataValue.json(uncovered[:20])},
    )
    yield dg.AssetCheckResult(
        check_name=GX_MATCHES_SQL,
        passed=not mismatches,
        metadata={"mismatches": len(mismatches), "first": dg.MetadataValue.json(mismatches[:20])},
    )
    for suite, name in SUITE_CHECKS.items():
        counts = by_suite.get(suite, {})
        tolerance = suite_tolerance(suite, cfg)
        allowed = (1 - tolerance) * outcome.tickets
        failing = {k: v for k, v in counts.items() if v > allowed}
        blocker = cfg.readiness.severity_of(SUITE_SCORECARD_CHECK[suite]) == "blocker"
        yield dg.AssetCheckResult(
            check_name=name,
            passed=not failing,
            severity=dg.AssetCheckSeverity.ERROR if blocker else dg.AssetCheckSeverity.WARN,
            metadata={
                "failing_checks": dg.MetadataValue.json(failing),
                "tickets_failing_by_check": dg.MetadataValue.json(counts),
                "must_pass_share": tolerance,
                "tickets": outcome.tickets,
            },
        )


@dg.asset(deps=["canonical_tickets"], group_name=GROUP, kinds={"duckdb"})
def duplicate_tickets(
    context: dg.AssetExecutionContext, audit: AuditResource
) -> dg.MaterializeResult:
    """audit.duplicate_groups: exact and near duplicates (MinHash/LSH, verified Jaccard)."""
    found = run_duplicates(audit.load(), context.log.info)
    s = found.stats
    return dg.MaterializeResult(
        metadata={
            "groups": s.get("groups", 0),
            "exact_copies": s.get("exact_copies", 0),
            "near_copies": s.get("near_copies", 0),
            "candidate_pairs": s.get("candidate_pairs", 0),
            "seconds": dg.MetadataValue.json(s.get("timings", {})),
        }
    )


@dg.asset(deps=[duplicate_tickets], group_name=GROUP, kinds={"duckdb", "scikit-learn"})
def label_consistency(
    context: dg.AssetExecutionContext, audit: AuditResource
) -> dg.MaterializeResult:
    """audit.label_issues: implausible labels (confident learning over out-of-fold
    probabilities), conflicting duplicate labels, catch-all and rare categories."""
    s = run_label_consistency(audit.load(), context.log.info).stats
    return dg.MaterializeResult(
        metadata={
            "implausible_labels": s.get("implausible_labels", 0),
            "label_conflict_tickets": s.get("label_conflict_tickets", 0),
            "catch_all_tickets": s.get("catch_all_tickets", 0),
            "rare_categories": len(s.get("rare_categories", [])),
            "classifier_accuracy": s.get("classifier_accuracy"),
            "labels_learnable": s.get("labels_learnable"),
            # New and reloaded tickets; the others' word ids were kept from earlier audits.
            "tickets_tokenised": s.get("tokenised", 0),
        }
    )


@dg.asset(deps=["canonical_tickets"], group_name=GROUP, kinds={"duckdb"})
def reply_variability(
    context: dg.AssetExecutionContext, audit: AuditResource
) -> dg.MaterializeResult:
    """audit.reply_variability: how standardised agent replies are, per category."""
    table = run_reply_variability(audit.load(), context.log.info)
    overall = table.filter(table["category"] == ALL).to_dicts() if table.height else []
    row = overall[0] if overall else {}
    return dg.MaterializeResult(
        metadata={
            "replies": int(row.get("replies") or 0),
            "variability_score": row.get("variability_score"),
            "templated_share": row.get("templated_share"),
            "categories": max(0, table.height - 1),
        }
    )


@dg.asset(
    deps=[quality_checks, duplicate_tickets, label_consistency, reply_variability],
    group_name=GROUP,
    kinds={"duckdb"},
)
def quality_summary(
    context: dg.AssetExecutionContext, audit: AuditResource
) -> dg.MaterializeResult:
    """audit.quality_ticket_flags (one row per ticket, a boolean per criterion) and the
    `quality` layer summary: usable labelled share and the funnel."""
    cfg = audit.load()
    s = run_quality_summary(cfg, check_descriptions(cfg), context.log.info)
    return dg.MaterializeResult(
        metadata={
            "usable_labeled_share": s["usable_labeled_share"],
            "tagging_coverage": s["tagging_coverage"],
            "label_conflict_share": s["label_conflict_share"],
            "duplicate_share": s["duplicate_share"],
            "response_variability": s["response_variability"],
            "funnel": dg.MetadataValue.json(
                [{"step": f["step"], "remaining": f["remaining"]} for f in s["funnel"]]
            ),
        }
    )
