"""Ownership, business baselines, the retrieval probe and the readiness scorecard.

Unpartitioned: each reads the whole history (or the other layers' summaries) and writes one
layer summary; `readiness_scorecard` assembles them into scorecard.{html,md,json} and keeps
the audit in `audit.audit_history`.
"""

from datetime import UTC, datetime

import dagster as dg

from pipelines.defs.resources import AuditResource
from reports.scorecard import write_scorecard
from reports.worklist import write_worklist
from ticket_audit import ownership, readiness
from ticket_audit.baselines import business_baselines as compute_baselines
from ticket_audit.readiness.worklist import build_worklist, what_it_would_take, worklist_summary
from ticket_audit.retrieval import load_corpus, run_probe
from ticket_audit.retrieval.probe import reusable_probe
from ticket_audit.sqlutil import table_exists
from ticket_audit.summaries import load_summaries, save_summary
from ticket_audit.tagging import tagged_labels

GROUP = "readiness"
# The PII layer's redacted copies: the only tables the retrieval index may be built from on disk.
REDACTED_TICKETS, REDACTED_MESSAGES = "audit.redacted_tickets", "audit.redacted_messages"


@dg.asset(
    name="ownership_scorecard", group_name=GROUP, deps=["canonical_tickets"], kinds={"duckdb"}
)
def ownership_scorecard_asset(
    context: dg.AssetExecutionContext, audit: AuditResource
) -> dg.MaterializeResult:
    """Declared owners, stale reviews, fields without a steward, untagged share by team."""
    cfg = audit.load()
    owners, path = ownership.owners_for_config(cfg)
    with audit.store() as con:
        evidence = ownership.tagging_evidence(
            con, "canonical.tickets", tagged_labels(cfg.taxonomy), cfg.ownership.evidence_top_n
        )
    summary = ownership.ownership_scorecard(
        owners,
        as_of=datetime.now(UTC).date(),
        stale_after_days=cfg.ownership.stale_after_days,
        evidence=evidence,
        owners_file=str(path) if path else None,
    )
    if owners is None:
        context.log.warning("no ownership.owners_file configured: every area is reported unowned")
    with audit.store() as con:
        save_summary(con, "ownership", summary)
    return dg.MaterializeResult(
        metadata={
            "score": summary["score"],
            "missing_owners": ", ".join(summary["missing_owners"]) or "none",
            "stale_reviews": ", ".join(summary["stale_reviews"]) or "none",
            "fields_without_steward": len(summary["fields_without_steward"]),
        }
    )


@dg.asset(group_name=GROUP, deps=["canonical_tickets"], kinds={"duckdb"})
def business_baselines(audit: AuditResource) -> dg.MaterializeResult:
    """Monthly volume, resolution and first-response times, CSAT; by category and channel."""
    cfg = audit.load()
    with audit.store() as con:
        summary = compute_baselines(con, "canonical.tickets", labels=tagged_labels(cfg.taxonomy))
        save_summary(con, "baselines", summary)
    return dg.MaterializeResult(
        metadata={
            "monthly_volume": round(summary["monthly_volume"], 1),
            "median_resolution_hours": summary["median_resolution_hours"],
            "csat_mean": summary["csat_mean"],
        }
    )


@dg.asset(group_name=GROUP, deps=["business_baselines", "redacted_tickets"], kinds={"tantivy"})
def retrieval_probe(
    context: dg.AssetExecutionContext, audit: AuditResource
) -> dg.MaterializeResult:
    """BM25 index of the redacted tickets, queried with held-out tickets (docs/readiness.md)."""
    cfg = audit.load()
    categories = list(cfg.taxonomy.categories)
    settings = cfg.retrieval.model_dump_json()
    with audit.store() as con:
        redacted = table_exists(con, REDACTED_TICKETS)
        table = REDACTED_TICKETS if redacted else "canonical.tickets"
        (tickets,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        previous = load_summaries(con).get("retrieval")
        source_table = REDACTED_TICKETS if redacted else "canonical.tickets (in memory)"
        reuse = reusable_probe(
            previous, tickets, settings, source_table, cfg.retrieval.remeasure_growth
        )
        if reuse is not None:
            save_summary(con, "retrieval", reuse)
    if reuse is not None:
        context.log.info(
            f"retrieval probe: {tickets:,} tickets, within {cfg.retrieval.remeasure_growth:.0%} "
            f"of the {previous['corpus_tickets']:,} measured on {previous['measured_at']}; "
            "keeping that measurement (retrieval.remeasure_growth)"
        )
        return _probe_result(reuse)
    with audit.store() as con:
        if redacted:
            corpus = load_corpus(con, REDACTED_TICKETS, REDACTED_MESSAGES, categories)
        else:
            corpus = load_corpus(con, "canonical.tickets", "canonical.messages", categories)
        monthly = (load_summaries(con).get("baselines") or {}).get("monthly_volume")
    if redacted:
        index_dir = (
            cfg.resolve(cfg.retrieval.index_dir)
            if cfg.retrieval.index_dir
            else cfg.duckdb_path.parent / "retrieval_index"
        )
    else:
        # Unredacted text must not reach the disk: measure in memory and say so.
        index_dir = None
        context.log.warning(f"{REDACTED_TICKETS} not found: probing canonical text in memory")
    summary = run_probe(corpus, cfg.retrieval, monthly_volume=monthly or 0.0, index_dir=index_dir)
    summary["source_table"] = source_table
    summary |= {
        "corpus_tickets": tickets,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": settings,
    }
    with audit.store() as con:
        save_summary(con, "retrieval", summary)
    return _probe_result(summary)


def _probe_result(summary: dict) -> dg.MaterializeResult:
    if summary.get("status") == "n/a":
        return dg.MaterializeResult(
            metadata={
                "status": "n/a",
                "reason": summary["reason"],
                "measured_at": summary.get("measured_at"),
            }
        )
    return dg.MaterializeResult(
        metadata={
            "p50_ms": summary["p50_ms"],
            "p95_ms": summary["p95_ms"],
            "p99_ms": summary["p99_ms"],
            "projected_p95_ms": summary["projection"]["p95_ms"],
            "precision_at_5": summary["precision_at_5"],
            "index_size": summary["index_size"],
            "within_budget": summary["within_budget"],
            "measured_at": summary["measured_at"],
        }
    )


@dg.asset(
    group_name=GROUP,
    deps=[
        "ownership_scorecard",
        "business_baselines",
        "retrieval_probe",
        "quality_summary",
        "pii_exposure_report",
    ],
    kinds={"html", "duckdb"},
)
def readiness_scorecard(
    context: dg.AssetExecutionContext, audit: AuditResource
) -> dg.MaterializeResult:
    """Verdict, score and blocking issues; writes scorecard.{html,md,json}; keeps the audit."""
    cfg = audit.load()
    now = datetime.now(UTC)
    audit_id = f"{now:%Y%m%d-%H%M%S}-{context.run_id[:8]}"
    with audit.store() as con:
        # Label values holding personal data (an e-mail typed as a category) are redacted in
        # every copy the layers made before the scorecard prints them.
        from ticket_audit.pii.label_scrub import scrub_labels

        scrubbed = scrub_labels(con, cfg)
        if scrubbed:
            context.log.warning(f"{scrubbed} label values held personal data; redacted in audit.*")
        summaries = load_summaries(con)
        tickets_total = con.execute("SELECT count(*) FROM canonical.tickets").fetchall()[0][0]
        previous = readiness.previous_audits(con, before_audit=audit_id)
    card = readiness.build_scorecard(
        summaries,
        cfg,
        audit_id=audit_id,
        generated_at=now,
        tickets_total=tickets_total,
        previous=previous,
    )
    worklist = None
    if summaries.get("quality"):
        with audit.store() as con:
            worklist = build_worklist(con, cfg, summaries.get("ownership"))
            what_if = what_it_would_take(
                con, cfg, summaries, worklist, drift=card.get("category_drift")
            )
        card["worklist"] = worklist_summary(worklist, what_if)
    paths = write_scorecard(
        card, audit.output_path(), min_tagging_coverage=cfg.readiness.min_tagging_coverage
    )
    if worklist is not None:
        paths.append(write_worklist(worklist, audit.output_path()))
    with audit.store() as con:
        readiness.record_audit(con, card)
    r = card["readiness"]
    context.log.info(f"verdict {r['verdict']} (score {r['score']:.2f}); report {paths[0]}")
    return dg.MaterializeResult(
        metadata={
            "verdict": r["verdict"],
            "score": r["score"],
            "blocking_issues": len(r["blocking_issues"]),
            "conditions": len(r["conditions"]),
            "audits_in_history": len(previous) + 1,
            "scorecard": dg.MetadataValue.path(str(paths[0])),
            "worklist_tickets": worklist.height if worklist is not None else 0,
        }
    )
