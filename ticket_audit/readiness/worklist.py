"""The worklist: every ticket the quality funnel removes, who fixes it and how, and what
fixing the first N would change (docs/readiness.md, "Worklist").

A ticket's step is the first funnel criterion it fails (the step that removes it, so the
worklist's counts per step are the funnel's). Tickets without a usable label, or with a label
the out-of-fold classifier finds implausible, carry the classifier's suggested category and
its probability. Rows are sorted for the support-operations team: tickets a relabel alone
makes usable first, most confident suggestion first.

"What it would take" applies the fixes of the first N rows to a copy of the per-ticket flags
and re-runs the same funnel (`ticket_audit.quality.funnel.funnel`) and the same readiness
rules (`ticket_audit.readiness.rules.evaluate`) on it: nothing is extrapolated.
"""

from __future__ import annotations

import copy
import math

import duckdb
import polars as pl

from ticket_audit.config import AuditConfig
from ticket_audit.quality.funnel import CRITERIA, CRITERION_KEYS, funnel, quarantined_ticket_rows
from ticket_audit.readiness.rules import declared_owners, evaluate, owner_of

# Funnel step -> (responsible ownership area, the fix). Steps in funnel order.
STEP_WORK: dict[str, tuple[str, str]] = {
    "loaded": ("cleaning", "Fix the row's {field} in the export and load it again."),
    "validated": ("cleaning", "Run the quality checks for the ticket's month."),
    "category_present": ("taxonomy", "Set a category (the suggestion, if confident)."),
    "category_valid": (
        "taxonomy",
        "Replace the catch-all or unknown category with a taxonomy label.",
    ),
    "subcategory_consistent": ("taxonomy", "Set a subcategory of the ticket's category."),
    "metadata_valid": ("schema", "Fill in priority, channel, product and team with valid values."),
    "timestamps_consistent": ("schema", "Correct the timestamps from the helpdesk's audit log."),
    "text_clean": ("cleaning", "Strip template tokens and HTML from subject and description."),
    "not_duplicate": ("cleaning", "Drop this later copy (the group's first ticket stays)."),
    "no_label_conflict": ("taxonomy", "Give the duplicate group's tickets one category."),
    "label_plausible": ("taxonomy", "Check the category; the text suggests another."),
}
STEP_ORDER = {k: i for i, k in enumerate(STEP_WORK)}
STEP_LABEL = {"loaded": "loaded (parseable)", "validated": "validated by the checks"} | {
    c.key: c.step for c in CRITERIA
}
# Steps whose fix is a label: where the classifier's suggestion helps.
RELABEL_STEPS = ("category_present", "category_valid", "label_plausible")
COLUMNS = (
    "rank",
    "source",
    "ticket_id",
    "step",
    "step_key",
    "failed",
    "failures",
    "area",
    "owner",
    "fix",
    "given_category",
    "suggested_category",
    "confidence",
)


def _first_failure_sql() -> str:
    keys = ["validated", *CRITERION_KEYS]
    whens = " ".join(f"WHEN NOT {k} THEN '{k}'" for k in keys)
    failed = ", ".join(f"CASE WHEN NOT {k} THEN '{k}' END" for k in keys)
    return f"CASE {whens} END AS step_key, [x FOR x IN [{failed}] IF x IS NOT NULL] AS failed"


def build_worklist(
    con: duckdb.DuckDBPyConnection, cfg: AuditConfig, ownership: dict | None
) -> pl.DataFrame:
    """One row per ticket the funnel removes (and per ticket row that did not load)."""
    owners = declared_owners(ownership or {})
    escalate = cfg.readiness.escalate_to
    removed = con.sql(
        f"""SELECT f.source, f.ticket_id, f.category AS given_category, {_first_failure_sql()},
            s.suggested_category, s.suggested_probability AS confidence
        FROM audit.quality_ticket_flags f
        LEFT JOIN (
            SELECT source, ticket_id, any_value(suggested_category) AS suggested_category,
                max(suggested_probability) AS suggested_probability
            FROM audit.label_issues WHERE issue IN ('implausible_label', 'suggested_label')
            GROUP BY ALL) s USING (source, ticket_id)
        WHERE NOT f.usable"""
    ).pl()
    relabel = pl.col("step_key").is_in(RELABEL_STEPS)
    removed = removed.with_columns(
        suggested_category=pl.when(relabel).then(pl.col("suggested_category")),
        confidence=pl.when(relabel).then(pl.col("confidence")),
        failures=pl.col("failed").list.len(),
        failed=pl.col("failed").list.join(";"),
        fix=pl.col("step_key").replace_strict({k: v[1] for k, v in STEP_WORK.items()}),
    )
    quarantined = quarantined_ticket_rows(con, cfg)
    not_loaded = quarantined.select(
        "source",
        # No ticket id before parsing: the export and its row number name the row.
        (
            pl.col("origin").str.split("/").list.last()
            + ":row "
            + pl.col("row_number").cast(pl.Utf8)
        ).alias("ticket_id"),
        pl.lit(None, pl.Utf8).alias("given_category"),
        pl.lit("loaded").alias("step_key"),
        pl.lit("loaded").alias("failed"),
        pl.lit(None, pl.Utf8).alias("suggested_category"),
        pl.lit(None, pl.Float64).alias("confidence"),
        pl.lit(1, pl.UInt32).alias("failures"),
        pl.format(STEP_WORK["loaded"][1].replace("{field}", "{}"), pl.col("field")).alias("fix"),
    )
    rows = pl.concat([removed, not_loaded.cast(removed.schema)], how="vertical")
    area_of = {k: v[0] for k, v in STEP_WORK.items()}
    owner_by_step = {k: owner_of(owners, a, escalate) for k, a in area_of.items()}
    rows = rows.with_columns(
        step=pl.col("step_key").replace_strict(STEP_LABEL),
        area=pl.col("step_key").replace_strict(area_of),
        owner=pl.col("step_key").replace_strict(owner_by_step),
        order=pl.col("step_key").replace_strict(STEP_ORDER, return_dtype=pl.Int32),
        has_suggestion=pl.col("suggested_category").is_not_null(),
    )
    # Relabel work first; among it, tickets one fix makes usable, then the surest suggestion.
    rows = rows.sort(
        ["has_suggestion", "failures", "confidence", "order", "source", "ticket_id"],
        descending=[True, False, True, False, False, False],
        nulls_last=True,
    )
    return rows.with_row_index("rank", offset=1).select(COLUMNS)


def fix_counts(rows: int, fixable: int, needed: int | None) -> list[int]:
    """Which first-N to show: shares of the worklist, and the N the verdict needs."""
    ns = {min(fixable, max(1, math.ceil(fixable * f))) for f in (0.05, 0.1, 0.25, 0.5, 1.0)}
    if needed is not None and 0 < needed <= fixable:
        ns.add(needed)
    return sorted(n for n in ns if n > 0) if rows else []


def apply_fixes_sql(fixed: str) -> str:
    """The flags with the fixes of the tickets in relation `fixed` (source, ticket_id)
    applied: a duplicate copy is dropped, every other failing criterion passes."""
    keys = ["validated", "tagged", *CRITERION_KEYS]
    passes = ", ".join(f"{k} OR x.ticket_id IS NOT NULL AS {k}" for k in keys)
    return f"""SELECT f.* REPLACE ({passes})
        FROM audit.quality_ticket_flags f
        LEFT JOIN {fixed} x USING (source, ticket_id)
        WHERE NOT (x.ticket_id IS NOT NULL AND NOT f.not_duplicate)"""


def what_it_would_take(
    con: duckdb.DuckDBPyConnection,
    cfg: AuditConfig,
    summaries: dict,
    worklist: pl.DataFrame,
    *,
    drift: dict | None = None,
) -> list[dict]:
    """Verdict, score and usable share if the first N loaded tickets of the worklist were
    fixed, for several N: the funnel and the readiness rules re-run on adjusted flags.

    Rows that did not load are left out (their fix is a new export); the other measures
    (duplicates, conflicts, metadata completeness...) are held as measured.
    """
    quality = summaries.get("quality") or {}
    read = (quality.get("funnel") or [{}])[0].get("remaining")
    if not read:
        return []
    fixable = worklist.filter(pl.col("step_key") != "loaded").select("source", "ticket_id")
    usable_now = quality.get("usable_labeled_tickets") or 0
    needed = math.ceil(cfg.readiness.min_usable_labeled_share * read) - usable_now
    (before,) = con.execute("SELECT count(*) FROM audit.quality_ticket_flags").fetchall()[0]
    out = []
    for n in fix_counts(worklist.height, fixable.height, needed):
        con.register("worklist_fixed", fixable.head(n).to_arrow())
        try:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE worklist_flags AS "
                + apply_fixes_sql("worklist_fixed")
            )
            dropped = before - con.execute("SELECT count(*) FROM worklist_flags").fetchall()[0][0]
            steps = funnel(con, read - dropped, flags="worklist_flags")
            loaded, tagged = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE tagged) FROM worklist_flags"
            ).fetchall()[0]
        finally:
            con.execute("DROP TABLE IF EXISTS worklist_flags")
            con.unregister("worklist_fixed")
        usable = steps[-1]["remaining"]
        adjusted = copy.deepcopy(summaries)
        adjusted["quality"].update(
            usable_labeled_share=usable / (read - dropped),
            usable_labeled_tickets=usable,
            tagging_coverage=tagged / loaded if loaded else None,
            funnel=steps,
        )
        r = evaluate(adjusted, cfg.readiness, drift=drift)
        out.append(
            {
                "fixed": n,
                "dropped_copies": dropped,
                "tickets_read": read - dropped,
                "usable_labeled_tickets": usable,
                "usable_labeled_share": usable / (read - dropped),
                "tagging_coverage": adjusted["quality"]["tagging_coverage"],
                "verdict": r["verdict"],
                "score": r["score"],
                "blocking_issues": len(r["blocking_issues"]),
                "blockers_left": [i["issue"] for i in r["blocking_issues"]],
            }
        )
    return out


def worklist_summary(worklist: pl.DataFrame, what_if: list[dict], shown: int = 25) -> dict:
    """The scorecard's `worklist` section: counts by step and owner, the first rows, and
    what fixing the first N would change."""
    by_step = (
        worklist.group_by("step_key", "step", "area", "owner")
        .agg(
            tickets=pl.len(),
            with_suggestion=pl.col("suggested_category").is_not_null().sum(),
        )
        .with_columns(order=pl.col("step_key").replace_strict(STEP_ORDER, return_dtype=pl.Int32))
        .sort("order")
        .drop("order")
    )
    return {
        "tickets": worklist.height,
        "by_step": by_step.to_dicts(),
        "with_suggestion": int(worklist["suggested_category"].is_not_null().sum()),
        "first": worklist.head(shown).to_dicts(),
        "what_it_would_take": what_if,
        "file": "worklist.csv",
    }
