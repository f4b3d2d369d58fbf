"""Usable labelled data: the per-ticket criteria and the funnel (docs/quality.md).

A ticket is usable labelled data when it was loaded and passes every criterion below. The
funnel applies them in this order, so each step shows how many tickets that criterion
removes among those the earlier steps kept. `TRUTH_DEFECTS` names the generator defects
each criterion removes, so tests compute the same funnel from truth.csv.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import polars as pl

from ticket_audit.config import AuditConfig
from ticket_audit.tagging import TAGGED_CHECKS


@dataclass(frozen=True)
class Criterion:
    key: str
    step: str  # funnel label shown to the TPM
    meaning: str


CRITERIA: tuple[Criterion, ...] = (
    Criterion("category_present", "category present", "the ticket has a category"),
    Criterion(
        "category_valid",
        "category in taxonomy, not catch-all",
        "the category is a configured, specific label (not 'Other'/'General')",
    ),
    Criterion(
        "subcategory_consistent",
        "subcategory fits category",
        "the subcategory, if any, belongs to the category",
    ),
    Criterion(
        "metadata_valid",
        "metadata complete and valid",
        "priority, channel, product and team present and valid",
    ),
    Criterion(
        "timestamps_consistent",
        "timestamps consistent",
        "created <= first response <= resolved, none after the export",
    ),
    Criterion(
        "text_clean",
        "description clean",
        "a description without template tokens or HTML (subject neither)",
    ),
    Criterion(
        "not_duplicate", "not a duplicate", "not a later copy (exact or near) of another ticket"
    ),
    Criterion(
        "no_label_conflict",
        "no conflicting duplicate labels",
        "not in a duplicate group whose members carry different categories",
    ),
    Criterion(
        "label_plausible",
        "label plausible",
        "the out-of-fold classifier does not contradict the category",
    ),
)
CRITERION_KEYS = tuple(c.key for c in CRITERIA)

# Fields whose absence or invalid value removes a ticket from the usable set
# (criterion "metadata_valid"; the GX metadata suite checks them).
REQUIRED_FIELDS = ("priority", "channel", "product", "team")


def mapped_fields(cfg: AuditConfig) -> list[str]:
    """Required fields that at least one source maps (a field no export has cannot be held
    against single tickets; completeness still reports it)."""
    return [f for f in REQUIRED_FIELDS if cfg.maps_field(f)]


# Generator defects (truth.csv columns) each criterion removes; "invalid_timestamp" rows
# never load (quarantined at ingest).
TRUTH_DEFECTS: dict[str, tuple[str, ...]] = {
    "loaded": ("invalid_timestamp",),
    "category_present": ("missing_category",),
    "category_valid": ("unknown_category", "catch_all_category"),
    "subcategory_consistent": ("subcategory_mismatch",),
    "metadata_valid": (
        "missing_priority",
        "invalid_priority",
        "missing_channel",
        "missing_team",
        "missing_product",
    ),
    "timestamps_consistent": (
        "resolved_before_created",
        "first_response_after_resolution",
        "future_created_at",
    ),
    "text_clean": ("empty_description", "template_leftover", "html_debris"),
    "not_duplicate": ("exact_duplicate", "near_duplicate_conflict"),
    "no_label_conflict": ("label_conflict",),
    "label_plausible": ("wrong_category",),
}


def flags_sql(
    validated_months_sql: str = "SELECT DISTINCT partition_month FROM audit.quality_check_results",
) -> str:
    """One row per canonical ticket: a pass/fail boolean per criterion, and `usable`."""
    rule = [c.key for c in CRITERIA][:6]
    rule_cols = ",\n        ".join(
        [f"bool_or(criterion = '{k}') AS fail_{k}" for k in rule]
        + [f"bool_or(check_name IN {TAGGED_CHECKS!r}) AS fail_tagged"]
    )
    passes = ",\n    ".join(f"NOT coalesce(v.fail_{k}, false) AS {k}" for k in rule)
    return f"""
WITH v AS (
    SELECT source, ticket_id,
        {rule_cols}
    FROM audit.quality_check_violations GROUP BY ALL
), d AS (
    SELECT source, ticket_id, NOT is_first AS copy, label_conflict FROM audit.duplicate_groups
), l AS (
    SELECT DISTINCT source, ticket_id FROM audit.label_issues WHERE issue = 'implausible_label'
), m AS ({validated_months_sql}),
b AS (SELECT coalesce((SELECT any_value(first_month) FROM audit.quality_partition_bounds),
                      min(partition_month)) AS lo,
             coalesce((SELECT any_value(last_month) FROM audit.quality_partition_bounds),
                      max(partition_month)) AS hi FROM m)
SELECT t.source, t.ticket_id, t.created_month, t.channel, t.team, t.category,
    greatest(least(t.created_month, b.hi), b.lo) IN (SELECT partition_month FROM m) AS validated,
    -- Tagged (ticket_audit.tagging): the tagging checks that define the rule both passed.
    NOT coalesce(v.fail_tagged, false) AS tagged,
    {passes},
    NOT coalesce(d.copy, false) AS not_duplicate,
    NOT coalesce(d.label_conflict, false) AS no_label_conflict,
    l.ticket_id IS NULL AS label_plausible
FROM canonical.tickets t
CROSS JOIN b
LEFT JOIN v ON v.source = t.source AND v.ticket_id = t.ticket_id
LEFT JOIN d ON d.source = t.source AND d.ticket_id = t.ticket_id
LEFT JOIN l ON l.source = t.source AND l.ticket_id = t.ticket_id
"""


def build_flags(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build audit.quality_ticket_flags from the checks, duplicates and label issues."""
    usable = " AND ".join(["validated", *CRITERION_KEYS])
    con.execute(
        f"CREATE OR REPLACE TABLE audit.quality_ticket_flags AS "
        f"SELECT *, {usable} AS usable FROM ({flags_sql()})"
    )


@contextmanager
def _ticket_quarantine(
    con: duckdb.DuckDBPyConnection, cfg: AuditConfig, *, messages: bool = False
) -> Iterator[str]:
    """SQL of the quarantined ticket rows (message rows with `messages`), valid inside the
    block.

    Message rows are quarantined into the same table; they come from the messages origins,
    recognised by their raw table `raw.<source>__messages`.
    """
    message_origins = []
    for source in cfg.sources:
        name = f"{source.name}__messages"
        kind = con.execute(
            "SELECT any_value(table_type) FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name = ?",
            [name],
        ).fetchall()[0][0]
        if kind == "BASE TABLE":  # a store from before the raw zone kept files
            origins = con.execute(f'SELECT DISTINCT _origin FROM raw."{name}"').fetchall()
        else:
            # The registry of the raw zone, not its view: the view parses every kept export.
            origins = con.execute(
                "SELECT DISTINCT origin FROM audit.raw_files WHERE raw_name = ?", [name]
            ).fetchall()
        message_origins += [(source.name, r[0]) for r in origins]
    con.register(
        "message_origins",
        pl.DataFrame(
            {"source": [s for s, _ in message_origins], "origin": [o for _, o in message_origins]},
            schema={"source": pl.Utf8, "origin": pl.Utf8},
        ).to_arrow(),
    )
    try:
        yield f"""SELECT q.* FROM raw.quarantine q
            {"SEMI" if messages else "ANTI"} JOIN message_origins m
                ON m.source = q.source AND m.origin = q.origin"""
    finally:
        con.unregister("message_origins")


def quarantined_tickets(
    con: duckdb.DuckDBPyConnection, cfg: AuditConfig, *, messages: bool = False
) -> dict:
    """Ticket rows that did not load, by field, for the funnel's "read -> loaded" step."""
    with _ticket_quarantine(con, cfg, messages=messages) as rows_sql:
        rows = con.execute(
            f"""SELECT coalesce(field, '(unreadable row)') AS field, count(*)
            FROM ({rows_sql}) GROUP BY ALL ORDER BY 2 DESC, 1"""
        ).fetchall()
    return {field: n for field, n in rows}


def quarantined_messages(con: duckdb.DuckDBPyConnection, cfg: AuditConfig) -> dict:
    """Message rows that did not load (replies among them), by field: the scorecard shows
    them beside the tickets, not only the profile."""
    return quarantined_tickets(con, cfg, messages=True)


def quarantined_ticket_rows(con: duckdb.DuckDBPyConnection, cfg: AuditConfig) -> pl.DataFrame:
    """source, origin, row_number, field of each ticket row that did not load (no values)."""
    with _ticket_quarantine(con, cfg) as rows_sql:
        return con.sql(
            f"""SELECT source, origin, row_number,
                coalesce(field, '(unreadable row)') AS field
            FROM ({rows_sql}) ORDER BY ALL"""
        ).pl()


def funnel(
    con: duckdb.DuckDBPyConnection, read: int, flags: str = "audit.quality_ticket_flags"
) -> list[dict]:
    """[{step, key, remaining, removed}] from rows read to usable labelled tickets.

    `flags`: the per-ticket flags to count (the worklist re-runs the funnel on a copy with
    fixes applied)."""
    cum = ["validated"]
    parts = []
    for c in CRITERIA:
        cum.append(c.key)
        parts.append(f"count(*) FILTER (WHERE {' AND '.join(cum)}) AS {c.key}")
    loaded, validated, *after = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE validated), {', '.join(parts)} FROM {flags}"
    ).fetchall()[0]
    steps = [
        {"step": "all tickets read", "key": "read", "remaining": read},
        {"step": "loaded (parseable)", "key": "loaded", "remaining": loaded},
    ]
    if validated != loaded:
        steps.append(
            {"step": "validated by the checks", "key": "validated", "remaining": validated}
        )
    for c, remaining in zip(CRITERIA, after, strict=True):
        steps.append({"step": c.step, "key": c.key, "remaining": remaining})
    prev = None
    for s in steps:
        s["removed"] = 0 if prev is None else prev - s["remaining"]
        prev = s["remaining"]
    steps[-1]["step"] = f"{steps[-1]['step']} = usable labelled"
    return steps


def truth_funnel(truth: pl.DataFrame) -> list[dict]:
    """The same funnel from a generated history's truth.csv (for tests and benchmarks)."""
    keep = pl.lit(True)
    steps = [{"key": "read", "remaining": truth.height}]
    for key in ("loaded", *CRITERION_KEYS):
        for defect in TRUTH_DEFECTS[key]:
            keep = keep & (pl.col(defect) == 0)
        steps.append({"key": key, "remaining": int(truth.select(keep.sum()).item())})
    return steps
