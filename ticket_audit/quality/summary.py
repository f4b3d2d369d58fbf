"""The `quality` layer summary: the numbers the scorecard shows (keys in DESIGN.md).

Shares are fractions of the loaded tickets, except `usable_labeled_share`, which is a
fraction of every ticket read (unparseable rows included): it answers "what share of our
history is usable labelled data".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

import duckdb

from ticket_audit.config import AuditConfig
from ticket_audit.quality.breakdowns import breakdowns, worst_examples
from ticket_audit.quality.funnel import (
    CRITERIA,
    REQUIRED_FIELDS,
    build_flags,
    funnel,
    mapped_fields,
    quarantined_messages,
    quarantined_tickets,
)
from ticket_audit.quality.leftovers import store_template_tokens, template_tokens
from ticket_audit.quality.status_patterns import completeness_by_status, status_patterns
from ticket_audit.quality.tables import ensure_tables, load_stage_stats
from ticket_audit.quality.variability import ALL
from ticket_audit.store import open_store
from ticket_audit.summaries import save_summary

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


# Share of the learnable labels the classifier must have scored for the labels to count as
# verified.
VERIFIED_MIN_SCORED = 0.5


def labels_verified(label_stats: dict) -> bool:
    """The labels were checked against the text: a classifier scored labelled tickets out of
    fold and beat always-guess-the-largest-category by `label_issues.min_skill`."""
    scored = label_stats.get("scored_tickets") or 0
    labelled = label_stats.get("labelled_tickets") or scored
    # Most of the labels must have been scored: skill on one small category says nothing
    # about the others.
    return (
        bool(label_stats.get("labels_learnable"))
        and scored > 0
        and scored >= VERIFIED_MIN_SCORED * labelled
    )


def _share(n: int | None, d: int) -> float:
    return (n or 0) / d if d else 0.0


def _one(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchall()[0]


def _checks_section(con, loaded: int, descriptions: Mapping[str, str]) -> list[dict]:
    rows = con.execute("""
        SELECT suite, check_name, any_value(column_name), sum(unexpected_count),
            sum(element_count), bool_and(success), count(*), bool_or(raised),
            sum(sql_unexpected_count), any_value(criterion)
        FROM audit.quality_check_results GROUP BY suite, check_name
        ORDER BY suite, check_name""").fetchall()
    out = []
    for suite, name, column, unexpected, elements, success, months, raised, sql, crit in rows:
        out.append(
            {
                "suite": suite,
                "check": name,
                "column": column,
                "description": descriptions.get(name),
                "criterion": crit,
                "unexpected": int(unexpected or 0),
                "share": _share(unexpected, loaded),
                "validated_tickets": int(elements or 0),
                "success": bool(success),
                "months": months,
                "raised": bool(raised),
                "sql_unexpected": int(sql or 0),
            }
        )
    return out


def build_summary(
    con: duckdb.DuckDBPyConnection, cfg: AuditConfig, check_descriptions: Mapping[str, str]
) -> dict:
    """The summary from the audit tables; `check_descriptions` (check name -> sentence, from
    `expectations.suites.check_descriptions`) label the checks: the core layer reads what
    the checks found from DuckDB and does not import the suites."""
    ensure_tables(con)
    build_flags(con)
    quarantined = quarantined_tickets(con, cfg)
    loaded, validated, tagged, usable = _one(
        con,
        """
        SELECT count(*), count(*) FILTER (WHERE validated), count(*) FILTER (WHERE tagged),
            count(*) FILTER (WHERE usable) FROM audit.quality_ticket_flags""",
    )
    read = loaded + sum(quarantined.values())
    steps = funnel(con, read)
    completeness, validity, invalid, failing = _field_measures(con, loaded)
    duplicates, conflict_tickets = _duplicates(con, cfg, loaded)
    issues = dict(
        con.execute("SELECT issue, count(*) FROM audit.label_issues GROUP BY issue").fetchall()
    )
    labels = load_stage_stats(con).get("label_consistency", {})
    (multi_label,) = _one(
        con, "SELECT count(*) FROM canonical.tickets WHERE deleted_at IS NULL AND len(labels) > 1"
    )
    variability, overall, replies = _variability(con)
    tokens = template_tokens(con, cfg)
    store_template_tokens(con, tokens)
    by_status = completeness_by_status(con)
    gx, checks = _gx_section(con, loaded, check_descriptions)

    return {
        # DESIGN.md scorecard keys
        "tagging_coverage": _share(tagged, loaded),
        "usable_labeled_share": _share(usable, read),
        # True only when a cross-validated classifier predicts the labels from the text with
        # real skill: otherwise the share counts labels nobody could check.
        "usable_labeled_verified": labels_verified(labels),
        "label_conflict_share": _share(conflict_tickets, loaded),
        "metadata_completeness": completeness,
        "duplicate_share": _share(duplicates["exact_copies"] + duplicates["near_copies"], loaded),
        # None ("no replies") when no agent reply exists: 0 would read as "perfectly uniform".
        "response_variability": overall["variability_score"] if replies else None,
        "agent_replies": replies,
        "min_category_sample": cfg.quality.min_category_sample,
        "quarantined_messages": quarantined_messages(con, cfg),
        "funnel": steps,
        # counts
        "tickets_read": read,
        "tickets_loaded": loaded,
        "tickets_validated": validated,
        "usable_labeled_tickets": usable,
        "quarantined": quarantined,
        # what is wrong with the rest
        "criteria": [
            {"key": c.key, "step": c.step, "meaning": c.meaning, "failing_tickets": n}
            for c, n in zip(CRITERIA, failing, strict=True)
        ],
        "metadata_validity": validity,
        # Required fields no source maps: reported as 0% complete, not held against tickets.
        "unmapped_fields": [f for f in REQUIRED_FIELDS if f not in mapped_fields(cfg)],
        "checks": checks,
        "check_violations": invalid,
        "label_issue_share": _share(issues.get("implausible_label", 0), loaded),
        "catch_all_share": _share(issues.get("catch_all", 0), loaded),
        "rare_categories": labels.get("rare_categories", []),
        "label_classifier": {k: labels.get(k) for k in _CLASSIFIER_KEYS},
        # Tickets of a one-hot export with several labels: kept, flagged, no single category.
        "multi_label_tickets": multi_label,
        "duplicates": duplicates,
        "response_variability_detail": {
            "overall": overall,
            "by_category": [r for r in variability if r["category"] != ALL],
        },
        "template_tokens": tokens,
        "completeness_by_status": by_status,
        "status_patterns": status_patterns(by_status),
        **breakdowns(con),
        "worst_examples": worst_examples(con, cfg.quality.worst_examples),
        "gx": gx,
        "as_of": cfg.quality.as_of_cutoff().isoformat(timespec="seconds"),
    }


# The label-consistency stage's statistics the summary passes on.
_CLASSIFIER_KEYS = (
    "classifier_accuracy",
    "chance_accuracy",
    "classifier_skill",
    "labels_learnable",
    "scored_tickets",
    "labelled_tickets",
    "estimated_label_errors",
    "auto_label_candidates",
    "unlabelled_tickets",
    "classes",
    "confusion",
    "by_team",
)


def _field_measures(con, loaded: int) -> tuple[dict, dict, dict, tuple]:
    """Completeness and validity of each required field, tickets per violated check, and
    tickets failing each funnel criterion."""
    present = ", ".join(f"count({f})" for f in REQUIRED_FIELDS)
    completeness = dict(
        zip(
            REQUIRED_FIELDS,
            (_share(n, loaded) for n in _one(con, f"SELECT {present} FROM canonical.tickets")),
            strict=True,
        )
    )
    invalid = dict(
        con.execute("""
        SELECT check_name, count(DISTINCT (source, ticket_id))
        FROM audit.quality_check_violations GROUP BY check_name""").fetchall()
    )
    validity = {}
    for f in REQUIRED_FIELDS:
        bad = con.execute(
            "SELECT count(DISTINCT (source, ticket_id)) FROM audit.quality_check_violations "
            "WHERE check_name IN (?, ?)",
            [f"{f}_present", f"{f}_valid"],
        ).fetchall()[0][0]
        validity[f] = 1 - _share(bad, loaded)
    failing = _one(
        con,
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE NOT {c.key})" for c in CRITERIA)
        + " FROM audit.quality_ticket_flags",
    )
    ts_bad = _one(
        con,
        "SELECT count(*) FILTER (WHERE NOT timestamps_consistent) FROM audit.quality_ticket_flags",
    )[0]
    validity["timestamps"] = 1 - _share(ts_bad, loaded)
    return completeness, validity, invalid, failing


def _duplicates(con, cfg: AuditConfig, loaded: int) -> tuple[dict, int]:
    """The duplicates section, and the tickets in groups whose labels conflict."""
    dup = _one(
        con,
        """
        SELECT count(*) FILTER (WHERE kind = 'exact'), count(*) FILTER (WHERE kind = 'near'),
            count(*) FILTER (WHERE is_first), count(*) FILTER (WHERE label_conflict),
            count(DISTINCT group_id) FILTER (WHERE label_conflict)
        FROM audit.duplicate_groups""",
    )
    exact, near, groups, conflict_tickets, conflict_groups = (int(x or 0) for x in dup)
    section = {
        "exact_copies": exact,
        "near_copies": near,
        "groups": groups,
        "exact_duplicate_share": _share(exact, loaded),
        "near_duplicate_share": _share(near, loaded),
        "conflicting_groups": conflict_groups,
        "scope": cfg.quality.duplicate_scope,
        "threshold": cfg.quality.near_duplicate_threshold,
    }
    return section, conflict_tickets


def _variability(con) -> tuple[list[dict], dict | None, int]:
    """Reply variability per category, its all-categories row and that row's reply count."""
    variability = (
        _rows(con, "SELECT * FROM audit.reply_variability")
        if _exists(con, "reply_variability")
        else []
    )
    overall = next((r for r in variability if r["category"] == ALL), None)
    replies = int(overall["replies"] or 0) if overall else 0
    return variability, overall, replies


def _gx_section(con, loaded: int, check_descriptions: Mapping[str, str]) -> tuple[dict, list]:
    """The Great Expectations section, and the checks it summarises."""
    validated_months = [
        r[0].isoformat()
        for r in con.execute(
            "SELECT DISTINCT partition_month FROM audit.quality_check_results ORDER BY 1"
        ).fetchall()
    ]
    checks = _checks_section(con, loaded, check_descriptions)
    mismatches = [c for c in checks if c["raised"] or c["unexpected"] != c["sql_unexpected"]]
    gx = {
        "validated_months": validated_months,
        "gx_sql_mismatches": len(mismatches),
        "data_docs": "data_docs/index.html",
    }
    return gx, checks


def _rows(con, sql: str) -> list[dict]:
    rel = con.sql(sql)
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def _exists(con, table: str) -> bool:
    return bool(
        _one(
            con,
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'audit' AND table_name = ?",
            [table],
        )[0]
    )


def run_quality_summary(
    cfg: AuditConfig, check_descriptions: Mapping[str, str], progress: Progress = log.info
) -> dict:
    t0 = time.perf_counter()
    with open_store(cfg.duckdb_path) as con:
        con.execute("SET enable_progress_bar = false")
        summary = build_summary(con, cfg, check_descriptions)
        save_summary(con, "quality", summary)
    progress(
        f"quality summary: {summary['usable_labeled_tickets']:,} of {summary['tickets_read']:,} "
        f"tickets usable ({summary['usable_labeled_share']:.1%}) in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    return summary
