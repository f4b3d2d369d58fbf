"""PII: findings and redaction per monthly partition, then the residual scan and the report.

Metadata and log lines carry counts only: Dagster's event log is outside the restricted zone.
The PII modules are imported by the assets, not here: they load Presidio and spaCy, which
take over a second, and loading the definitions (the UI, every run, every step process of
the Celery executor) does not need them.
"""

import dagster as dg

from pipelines.defs.partitions import month_windows, monthly_partitions
from pipelines.defs.resources import AuditResource
from reports.pii_exposure import write_pii_exposure
from ticket_audit.summaries import save_summary

GROUP = "pii"
NO_RESIDUAL_PII = "no_residual_pii"


def _by_month(context: dg.AssetExecutionContext, step, cfg, audit: AuditResource) -> list:
    """Run `step` over each month of the window: memory stays that of one month."""
    from ticket_audit.pii.ticket_texts import WindowQuery

    months = month_windows(context)
    results = []
    for n, (month, where, params) in enumerate(months, 1):
        if len(months) > 1:
            context.log.info(f"month {month} ({n} of {len(months)})")
        results.append(
            step(cfg, audit.store, WindowQuery(where, tuple(params)), log=context.log.info)
        )
    return results


def _counts(by_entity: dict[str, int]) -> dg.MetadataValue:
    return dg.MetadataValue.json(by_entity)


@dg.asset(
    partitions_def=monthly_partitions,
    deps=["canonical_tickets"],
    group_name=GROUP,
    kinds={"duckdb", "presidio"},
)
def pii_findings(context: dg.AssetExecutionContext, audit: AuditResource) -> dg.MaterializeResult:
    """audit.pii_findings: entity type, field, offsets, score, recognizer and keyed hash of
    every detected value (never the value). Only new or changed tickets are scanned."""
    from ticket_audit.pii.runtime import get_scanner
    from ticket_audit.pii.scan_tickets import ScanResult, scan_window

    cfg = audit.load()
    try:
        r = ScanResult.combine(_by_month(context, scan_window, cfg, audit))
    finally:
        get_scanner(cfg.pii).close()  # its worker processes are not needed by later stages
    return dg.MaterializeResult(
        metadata={
            "tickets_in_window": r.tickets_in_window,
            "tickets_scanned": r.tickets_scanned,
            "tickets_unchanged_skipped": r.tickets_unchanged,
            "tickets_removed": r.tickets_removed,
            "texts_scanned": r.texts_scanned,
            "findings_written": r.findings_written,
            "tickets_with_findings": r.tickets_with_findings,
            "findings_by_entity": _counts(r.by_entity),
            "scan_tickets_per_second": r.tickets_per_second,
        }
    )


@dg.asset(
    partitions_def=monthly_partitions,
    deps=[pii_findings],
    group_name=GROUP,
    kinds={"duckdb", "presidio"},
)
def redacted_tickets(
    context: dg.AssetExecutionContext, audit: AuditResource
) -> dg.MaterializeResult:
    """audit.redacted_tickets and audit.redacted_messages: canonical with every text field
    redacted (consistent pseudonyms by default; operators per entity type in `pii.operators`)."""
    from ticket_audit.pii.redact_tickets import RedactResult, redact_window

    cfg = audit.load()
    r = RedactResult.combine(_by_month(context, redact_window, cfg, audit))
    return dg.MaterializeResult(
        metadata={
            "tickets_in_window": r.tickets_in_window,
            "tickets_redacted": r.tickets_redacted,
            "texts_changed": r.texts_changed,
            "tickets_waiting_for_scan": r.tickets_waiting_for_scan,
            "redacted_rows_in_window": r.redacted_rows_in_window,
            "tickets_rewritten": r.tickets_rewritten,
        }
    )


@dg.asset(
    deps=[redacted_tickets],
    group_name=GROUP,
    kinds={"duckdb", "parquet"},
    check_specs=[
        dg.AssetCheckSpec(
            NO_RESIDUAL_PII,
            asset="pii_residual_scan",
            description="the scanner finds nothing in the redacted text",
        )
    ],
)
def pii_residual_scan(context: dg.AssetExecutionContext, audit: AuditResource):
    """audit.pii_residual: the redacted text scanned again; then `redacted_tickets/`, the
    dataset the GenAI team may use (month-partitioned Parquet), in the output directory."""
    from ticket_audit.pii.redacted_dataset import export_dataset
    from ticket_audit.pii.residual import residual_scan
    from ticket_audit.pii.runtime import get_scanner

    cfg = audit.load()
    try:
        r = residual_scan(cfg, audit.store, log=context.log.info)
    finally:
        get_scanner(cfg.pii).close()
    export = export_dataset(audit.store, audit.output_path())
    context.log.info(
        f"redacted dataset written: {export.path.name}/ ({export.rows:,} tickets; "
        f"{export.months_nested} months written, {export.months_copied} unchanged months kept)"
    )
    yield dg.MaterializeResult(
        metadata={
            "tickets_checked": r.tickets_checked,
            "residual_findings": r.total_findings,
            "residual_tickets": r.total_tickets,
            "residual_by_entity_this_run": _counts(r.by_entity),
            "redacted_dataset": dg.MetadataValue.path(str(export.path)),
            "redacted_dataset_tickets": export.rows,
            "redacted_dataset_months_copied": export.months_copied,
        }
    )
    yield dg.AssetCheckResult(
        check_name=NO_RESIDUAL_PII,
        passed=r.total_findings == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"residual_findings": r.total_findings, "residual_tickets": r.total_tickets},
    )


@dg.asset(deps=[pii_residual_scan], group_name=GROUP, kinds={"duckdb", "html"})
def pii_exposure_report(
    context: dg.AssetExecutionContext, audit: AuditResource
) -> dg.MaterializeResult:
    """pii_exposure.{html,csv,json} for compliance and the `pii` layer summary."""
    from ticket_audit.pii.analyzer import model_capabilities
    from ticket_audit.pii.exposure import compute_exposure, summary

    cfg = audit.load()
    capabilities = model_capabilities(cfg.pii)
    with audit.store() as con:
        exposure = compute_exposure(con, cfg, capabilities)
        save_summary(con, "pii", summary(exposure))
    paths = write_pii_exposure(exposure, audit.output_path())
    context.log.info(f"PII exposure report written: {', '.join(p.name for p in paths)}")
    return dg.MaterializeResult(
        metadata={
            "tickets_scanned": exposure["tickets_scanned"],
            "tickets_with_pii_share": exposure["tickets_with_pii_share"],
            "high_risk_tickets": exposure["high_risk_ticket_count"],
            "tickets_by_entity": _counts(exposure["by_entity"]),
            "residual_findings_after_redaction": exposure["residual_findings_after_redaction"],
            "report": dg.MetadataValue.path(str(paths[0])),
        }
    )
