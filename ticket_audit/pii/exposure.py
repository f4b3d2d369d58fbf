"""The numbers of the PII exposure report, computed in SQL over the audit tables.

Everything here is counts, shares, ticket ids and entity types: the report is built from
`audit.*` only and never reads a text column.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import duckdb

from ticket_audit.config import AuditConfig
from ticket_audit.entity_types import HIGH_RISK, METHODS, QUASI_IDENTIFIERS
from ticket_audit.pii.evaluate import measured_accuracy
from ticket_audit.pii.language import detectors_for
from ticket_audit.pii.tables import ensure_pii_tables

# A field group per row of the "by field" table: the conversation is one group.
_FIELD_GROUP = (
    "CASE WHEN field LIKE 'message:%' THEN 'messages' "
    "WHEN field LIKE 'tags:%' THEN 'tags' WHEN field LIKE 'labels:%' THEN 'labels' ELSE field END"
)

METHOD = [
    "Every field that leaves the raw zone is scanned: the subject, the description and each "
    "message of the conversation (agent replies and internal notes included), and the labels "
    "and metadata (category, subcategory, product, team, assignee, each tag) with the pattern "
    "recognizers.",
    "Each text's language is detected first; a name model runs only on text in its own "
    "language (English, French). Other languages get the patterns and their own name cues "
    "(salutations and sign-offs): the table by language says which detectors ran on how many "
    "texts, so no name findings in a language without a model does not mean no names.",
    "Placeholders that earlier tools left (<name>, [EMAIL], ph_user, ***) are counted as "
    "already masked, never as personal data, and left as they are.",
    "Locations (cities, regions, countries) are quasi-identifiers: counted and shown, low "
    "risk, redacted in the dataset unless pii.redact_quasi_identifiers is off.",
    "Names of people are found by the spaCy language model named in the settings; every other "
    "kind of personal data is found by patterns that also check what can be checked: card "
    "numbers must pass the Luhn checksum, IBANs the bank checksum, phone numbers the numbering "
    "plan of a country, dates of birth and passwords need a word such as 'born' or 'password' "
    "next to them.",
    "Each detection has a confidence score; detections below the threshold are not counted. "
    "The company's own contact points and product names (the allow-list) are never counted; "
    "known internal identifiers (the deny-list) always are.",
    "No personal value is stored or shown. For each detection the audit keeps the ticket, the "
    "field, the kind of data, its position in the text, the score and a keyed fingerprint of "
    "the value; the fingerprint only tells whether two detections are the same value (that is "
    "how distinct values are counted) and cannot be reversed without the secret key.",
    "The redacted dataset replaces each detected value with a placeholder such as "
    "<EMAIL_1f3a9c2b>; the same value always gets the same placeholder, so similar tickets "
    "can still be found and duplicates recognised. The redacted text is then scanned again; "
    "whatever that second scan finds is listed under residual findings.",
    "Detection is measured, not assumed: precision and recall per kind of data on a public "
    "labelled set and on generated tickets with known planted values are in docs/pii.md.",
]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _ticket_rows(con: duckdb.DuckDBPyConnection, table: str, where: str) -> list[dict]:
    """Per ticket of `table` matching `where`: its entity types, field groups and findings.

    The lists come out of DuckDB as joined strings and are split here: converting 100k+
    rows of list values to Python took most of the report's query time."""
    sep = "\x1f"
    rows = con.execute(
        f"""SELECT source, ticket_id,
                   array_to_string(list(DISTINCT entity_type ORDER BY entity_type), chr(31)),
                   array_to_string(list(DISTINCT {_FIELD_GROUP} ORDER BY {_FIELD_GROUP}), chr(31)),
                   count(*)
            FROM {table} WHERE {where}
            GROUP BY ALL ORDER BY source, ticket_id"""
    ).fetchall()
    return [
        {
            "source": source,
            "ticket_id": ticket_id,
            "entity_types": types.split(sep),
            "fields": fields.split(sep),
            "findings": findings,
        }
        for source, ticket_id, types, fields, findings in rows
    ]


def _share(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0


def compute_exposure(
    con: duckdb.DuckDBPyConnection, cfg: AuditConfig, capabilities: dict | None = None
) -> dict[str, Any]:
    ensure_pii_tables(con)
    one = con.execute
    tickets_total = one("SELECT count(*) FROM canonical.tickets").fetchall()[0][0]
    _exposure_tables(con)
    scanned, exposed = one(
        "SELECT count(*), count(*) FILTER (WHERE exposed) FROM _exposure_t"
    ).fetchall()[0]
    findings_total = one(
        "SELECT CAST(coalesce(sum(findings), 0) AS BIGINT) FROM _exposure_te"
    ).fetchall()[0][0]
    entities = _entities(con, scanned)
    by_field = _by_field(con, scanned)
    by_channel = _by_dimension(con, "coalesce(t.channel, '(missing)')")
    by_month = _by_dimension(con, "coalesce(strftime(t.created_month, '%Y-%m'), '(missing)')")
    high_risk = _ticket_rows(con, "audit.pii_findings", f"entity_type IN ({_HIGH_RISK_SQL})")
    residual_by_entity = dict(
        one("SELECT entity_type, count(*) FROM audit.pii_residual GROUP BY 1 ORDER BY 1").fetchall()
    )
    residual_tickets = _ticket_rows(con, "audit.pii_residual", "true")
    redacted = one("SELECT count(*) FROM audit.redacted_tickets").fetchone()[0]
    residual_checked = one(
        "SELECT count(*) FROM audit.pii_scan_state WHERE residual_hash IS NOT NULL"
    ).fetchone()[0]
    masked_tickets, masked_by_style = _masked(con)
    by_language = _by_language(con, cfg)

    one("DROP TABLE _exposure_te")
    one("DROP VIEW _pii_detections")
    one("DROP TABLE _exposure_t")

    return {
        "generated_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        "tickets_total": tickets_total,
        "tickets_scanned": scanned,
        "tickets_with_pii": exposed,
        "tickets_with_pii_share": _share(exposed, scanned),
        "findings_total": findings_total,
        "by_entity": {e["entity_type"]: e["tickets"] for e in entities},
        "distinct_values": {e["entity_type"]: e["distinct_values"] for e in entities},
        "entities": entities,
        "by_field": by_field,
        "by_channel": by_channel,
        "by_month": by_month,
        "high_risk_ticket_count": len({(r["source"], r["ticket_id"]) for r in high_risk}),
        "high_risk_tickets": high_risk,
        "redacted_tickets": redacted,
        "residual_tickets_checked": residual_checked,
        "residual_findings_after_redaction": sum(residual_by_entity.values()),
        "residual_by_entity": residual_by_entity,
        "residual_tickets": residual_tickets,
        "masked_placeholder_tickets": masked_tickets,
        "masked_placeholder_share": _share(masked_tickets, scanned),
        "masked_by_style": masked_by_style,
        "by_language": by_language,
        # The detector's measured recall per type on a public labelled set (the miss rate).
        "measured_accuracy": measured_accuracy(),
        "capabilities": capabilities or {},
        "settings": _settings(cfg),
        "method": METHOD,
    }


_HIGH_RISK_SQL = ", ".join(f"'{h}'" for h in sorted(HIGH_RISK))


def _exposure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Temporary tables the breakdowns count over (compute_exposure drops them)."""
    # One row per ticket and kind of data, and one per scanned ticket: the counts of
    # distinct tickets below become plain counts over these, not DISTINCT over millions of
    # findings, and the scanned tickets are joined once for every breakdown.
    # A detection is counted once: where a message repeats the description (many helpdesks
    # store the description again as the first message), its findings at the same offsets
    # with the same value are the description's, not new ones.
    con.execute(
        """CREATE OR REPLACE TEMP VIEW _pii_detections AS
        SELECT f.* FROM audit.pii_findings f
        ANTI JOIN (SELECT source, ticket_id, entity_type, start, "end", value_hash
                   FROM audit.pii_findings WHERE field = 'description') d
          ON f.field LIKE 'message:%' AND d.source = f.source AND d.ticket_id = f.ticket_id
         AND d.entity_type = f.entity_type AND d.start = f.start AND d."end" = f."end"
         AND d.value_hash = f.value_hash"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _exposure_te AS
        SELECT f.*, t.channel, t.created_month FROM (
            SELECT source, ticket_id, entity_type, count(*) AS findings,
                   bool_or({_FIELD_GROUP} = 'subject') AS in_subject,
                   bool_or({_FIELD_GROUP} = 'description') AS in_description,
                   bool_or({_FIELD_GROUP} = 'messages') AS in_messages
            FROM _pii_detections GROUP BY ALL) f
        JOIN canonical.tickets t ON t.source = f.source AND t.ticket_id = f.ticket_id"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _exposure_t AS
        SELECT t.channel, t.created_month, x.exposed IS NOT NULL AS exposed,
               coalesce(x.high_risk, false) AS high_risk
        FROM (SELECT source, ticket_id, channel, created_month FROM canonical.tickets t
              SEMI JOIN audit.pii_scan_state s
              ON s.source = t.source AND s.ticket_id = t.ticket_id) t
        LEFT JOIN (SELECT source, ticket_id, true AS exposed,
                          bool_or(entity_type IN ({_HIGH_RISK_SQL})) AS high_risk
                   FROM _exposure_te GROUP BY ALL) x
          ON x.source = t.source AND x.ticket_id = t.ticket_id"""
    )


def _entities(con: duckdb.DuckDBPyConnection, scanned: int) -> list[dict]:
    """One row per kind of data: tickets, findings, distinct values, where it was found."""
    entities = _rows(
        con,
        """SELECT e.entity_type, count(*) AS tickets, CAST(sum(e.findings) AS BIGINT) AS findings,
                  any_value(d.distinct_values) AS distinct_values,
                  count(*) FILTER (WHERE e.in_subject) AS in_subject,
                  count(*) FILTER (WHERE e.in_description) AS in_description,
                  count(*) FILTER (WHERE e.in_messages) AS in_messages
            FROM _exposure_te e
            JOIN (SELECT entity_type, count(DISTINCT value_hash) AS distinct_values
                  FROM audit.pii_findings GROUP BY 1) d USING (entity_type)
            GROUP BY 1 ORDER BY tickets DESC, entity_type""",
    )
    for e in entities:
        e["high_risk"] = e["entity_type"] in HIGH_RISK
        e["quasi_identifier"] = e["entity_type"] in QUASI_IDENTIFIERS
        e["tickets_share"] = _share(e["tickets"], scanned)
        e["method"] = METHODS.get(e["entity_type"], "deny-list pattern")
    return entities


def _by_field(con: duckdb.DuckDBPyConnection, scanned: int) -> list[dict]:
    # Messages split by who wrote them: agents pasting customer data back is its own finding.
    # The message is found by its position as a number (a string comparison per pair was
    # most of this query).
    by_field = _rows(
        con,
        """WITH f AS (
               SELECT source, ticket_id, field, entity_type,
                      TRY_CAST(CASE WHEN field LIKE 'message:%' THEN substr(field, 9) END
                               AS INTEGER) AS seq
               FROM audit.pii_findings)
           SELECT CASE WHEN f.field LIKE 'message:%'
                        THEN 'messages (' || coalesce(m.author_role, 'unknown') || ')'
                        ELSE regexp_replace(f.field, ':[0-9]+$', '') END AS field,
                   count(DISTINCT (f.source, f.ticket_id)) AS tickets, count(*) AS findings,
                   list(DISTINCT f.entity_type ORDER BY f.entity_type) AS entity_types
            FROM f
            LEFT JOIN canonical.messages m
              ON m.source = f.source AND m.ticket_id = f.ticket_id AND m.seq = f.seq
            GROUP BY 1 ORDER BY tickets DESC, findings DESC, field""",
    )
    for r in by_field:
        r["tickets_share"] = _share(r["tickets"], scanned)
    return by_field


def _by_dimension(con: duckdb.DuckDBPyConnection, expr: str) -> list[dict]:
    """Scanned tickets per value of `expr` (a channel, a month): exposed, high-risk, and
    tickets per kind of data."""
    rows = _rows(
        con,
        f"""SELECT {expr} AS value, count(*) AS tickets,
                   count(*) FILTER (WHERE t.exposed) AS tickets_exposed,
                   count(*) FILTER (WHERE t.high_risk) AS tickets_high_risk
        FROM _exposure_t t GROUP BY 1 ORDER BY 1""",
    )
    per_entity = _rows(
        con,
        f"SELECT {expr} AS value, t.entity_type, count(*) AS tickets "
        "FROM _exposure_te t GROUP BY ALL",
    )
    split: dict[Any, dict[str, int]] = {}
    for r in per_entity:
        split.setdefault(r["value"], {})[r["entity_type"]] = r["tickets"]
    for r in rows:
        r["share_exposed"] = _share(r["tickets_exposed"], r["tickets"])
        r["share_high_risk"] = _share(r["tickets_high_risk"], r["tickets"])
        r["by_entity"] = dict(sorted(split.get(r["value"], {}).items()))
    return rows


def _masked(con: duckdb.DuckDBPyConnection) -> tuple[int, list[dict]]:
    """Placeholders earlier tools left: how much of the history was already masked, and how."""
    masked_tickets = con.execute(
        "SELECT count(DISTINCT (source, ticket_id)) FROM audit.pii_masked"
    ).fetchone()[0]
    masked_by_style = _rows(
        con,
        """SELECT style, count(DISTINCT (source, ticket_id)) AS tickets,
                  CAST(sum(occurrences) AS BIGINT) AS occurrences
           FROM audit.pii_masked GROUP BY 1 ORDER BY tickets DESC, style""",
    )
    return masked_tickets, masked_by_style


def _by_language(con: duckdb.DuckDBPyConnection, cfg: AuditConfig) -> dict[str, dict]:
    return {
        r["language"]: {
            "texts": r["texts"],
            "tickets": r["tickets"],
            "detectors": detectors_for(cfg.pii, r["language"]),
        }
        for r in _rows(
            con,
            """SELECT language, CAST(sum(texts) AS BIGINT) AS texts,
                      count(DISTINCT (source, ticket_id)) AS tickets
               FROM audit.pii_languages GROUP BY 1 ORDER BY texts DESC, language""",
        )
    }


def _settings(cfg: AuditConfig) -> dict[str, Any]:
    env = cfg.audit.hash_key_env
    return {
        "spacy_model": cfg.pii.spacy_model,
        "score_threshold": cfg.pii.score_threshold,
        "residual_score_threshold": cfg.pii.residual_threshold,
        "entities": list(cfg.pii.entities),
        "allow_list_entries": len(cfg.pii.allow_list),
        "deny_list_patterns": len(cfg.pii.deny_list),
        "operators": {t: cfg.pii.operator_for(t).type for t in cfg.pii.entities},
        "hash_key": "from $" + env
        if os.environ.get(env)
        else f"PUBLIC DEMO KEY (${env} not set): fingerprints and pseudonyms can be guessed",
    }


def summary(exposure: dict[str, Any]) -> dict[str, Any]:
    """The `pii` key of scorecard.json (DESIGN.md), plus a few more counts."""
    return {
        "tickets_with_pii_share": exposure["tickets_with_pii_share"],
        "by_entity": exposure["by_entity"],
        "residual_findings_after_redaction": exposure["residual_findings_after_redaction"],
        "masked_placeholder_tickets": exposure["masked_placeholder_tickets"],
        "by_language": {
            lang: {"texts": v["texts"], "detectors": v["detectors"]}
            for lang, v in exposure["by_language"].items()
        },
        "tickets_total": exposure["tickets_total"],
        "tickets_scanned": exposure["tickets_scanned"],
        "tickets_with_pii": exposure["tickets_with_pii"],
        "findings_total": exposure["findings_total"],
        "distinct_values": exposure["distinct_values"],
        "high_risk_tickets": exposure["high_risk_ticket_count"],
        "high_risk_share": _share(exposure["high_risk_ticket_count"], exposure["tickets_scanned"]),
        "residual_tickets": len(exposure["residual_tickets"]),
        "redacted_tickets": exposure["redacted_tickets"],
        "not_detectable": [
            e["entity_type"] for e in exposure["capabilities"].get("not_detectable", [])
        ],
        "demo_key": exposure["settings"]["hash_key"].startswith("PUBLIC DEMO KEY"),
    }
