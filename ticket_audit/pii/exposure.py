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
from ticket_audit.pii.entities import HIGH_RISK, METHODS
from ticket_audit.pii.tables import ensure_pii_tables

# A field group per row of the "by field" table: the conversation is one group.
_FIELD_GROUP = "CASE WHEN field LIKE 'message:%' THEN 'messages' ELSE field END"

METHOD = [
    "Every text of every ticket is scanned: the subject, the description and each message of "
    "the conversation (agent replies and internal notes included).",
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


def _share(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0


def compute_exposure(
    con: duckdb.DuckDBPyConnection, cfg: AuditConfig, capabilities: dict | None = None
) -> dict[str, Any]:
    ensure_pii_tables(con)
    one = con.execute
    tickets_total = one("SELECT count(*) FROM canonical.tickets").fetchone()[0]
    scanned = one(
        "SELECT count(*) FROM audit.pii_scan_state s SEMI JOIN canonical.tickets t "
        "ON t.source = s.source AND t.ticket_id = s.ticket_id"
    ).fetchone()[0]
    exposed, findings_total = one(
        "SELECT count(DISTINCT (source, ticket_id)), count(*) FROM audit.pii_findings"
    ).fetchone()

    entities = _rows(
        con,
        f"""SELECT entity_type, count(DISTINCT (source, ticket_id)) AS tickets,
                   count(*) AS findings, count(DISTINCT value_hash) AS distinct_values,
                   count(DISTINCT (source, ticket_id)) FILTER (WHERE {_FIELD_GROUP} = 'subject') AS in_subject,
                   count(DISTINCT (source, ticket_id)) FILTER (WHERE {_FIELD_GROUP} = 'description') AS in_description,
                   count(DISTINCT (source, ticket_id)) FILTER (WHERE {_FIELD_GROUP} = 'messages') AS in_messages
            FROM audit.pii_findings GROUP BY entity_type ORDER BY tickets DESC, entity_type""",
    )
    for e in entities:
        e["high_risk"] = e["entity_type"] in HIGH_RISK
        e["tickets_share"] = _share(e["tickets"], scanned)
        e["method"] = METHODS.get(e["entity_type"], "deny-list pattern")

    # Messages split by who wrote them: agents pasting customer data back is its own finding.
    by_field = _rows(
        con,
        """SELECT CASE WHEN f.field LIKE 'message:%'
                        THEN 'messages (' || coalesce(m.author_role, 'unknown') || ')'
                        ELSE f.field END AS field,
                   count(DISTINCT (f.source, f.ticket_id)) AS tickets, count(*) AS findings,
                   list(DISTINCT f.entity_type ORDER BY f.entity_type) AS entity_types
            FROM audit.pii_findings f
            LEFT JOIN canonical.messages m ON f.field LIKE 'message:%'
                 AND m.source = f.source AND m.ticket_id = f.ticket_id
                 AND 'message:' || CAST(m.seq AS VARCHAR) = f.field
            GROUP BY 1 ORDER BY tickets DESC""",
    )
    for r in by_field:
        r["tickets_share"] = _share(r["tickets"], scanned)

    def by_dimension(expr: str) -> list[dict]:
        rows = _rows(
            con,
            f"""WITH t AS (
                    SELECT t.source, t.ticket_id, {expr} AS value FROM canonical.tickets t
                    SEMI JOIN audit.pii_scan_state s ON s.source = t.source AND s.ticket_id = t.ticket_id),
                e AS (SELECT DISTINCT source, ticket_id, entity_type FROM audit.pii_findings)
            SELECT t.value, count(DISTINCT (t.source, t.ticket_id)) AS tickets,
                   count(DISTINCT (e.source, e.ticket_id)) AS tickets_exposed,
                   count(DISTINCT (e.source, e.ticket_id)) FILTER (WHERE e.entity_type IN
                       ({", ".join(f"'{h}'" for h in sorted(HIGH_RISK))})) AS tickets_high_risk
            FROM t LEFT JOIN e ON e.source = t.source AND e.ticket_id = t.ticket_id
            GROUP BY 1 ORDER BY 1""",
        )
        per_entity = _rows(
            con,
            f"""SELECT {expr} AS value, f.entity_type, count(DISTINCT (f.source, f.ticket_id)) AS tickets
                FROM audit.pii_findings f JOIN canonical.tickets t
                  ON t.source = f.source AND t.ticket_id = f.ticket_id
                GROUP BY ALL""",
        )
        split: dict[Any, dict[str, int]] = {}
        for r in per_entity:
            split.setdefault(r["value"], {})[r["entity_type"]] = r["tickets"]
        for r in rows:
            r["share_exposed"] = _share(r["tickets_exposed"], r["tickets"])
            r["share_high_risk"] = _share(r["tickets_high_risk"], r["tickets"])
            r["by_entity"] = dict(sorted(split.get(r["value"], {}).items()))
        return rows

    by_channel = by_dimension("coalesce(t.channel, '(missing)')")
    by_month = by_dimension("coalesce(strftime(t.created_month, '%Y-%m'), '(missing)')")

    high_risk = _rows(
        con,
        f"""SELECT source, ticket_id, list(DISTINCT entity_type ORDER BY entity_type) AS entity_types,
                   list(DISTINCT {_FIELD_GROUP} ORDER BY {_FIELD_GROUP}) AS fields,
                   count(*) AS findings
            FROM audit.pii_findings
            WHERE entity_type IN ({", ".join(f"'{h}'" for h in sorted(HIGH_RISK))})
            GROUP BY ALL ORDER BY source, ticket_id""",
    )

    residual_by_entity = dict(
        one("SELECT entity_type, count(*) FROM audit.pii_residual GROUP BY 1 ORDER BY 1").fetchall()
    )
    residual_tickets = _rows(
        con,
        f"""SELECT source, ticket_id, list(DISTINCT entity_type ORDER BY entity_type) AS entity_types,
                   list(DISTINCT {_FIELD_GROUP} ORDER BY {_FIELD_GROUP}) AS fields, count(*) AS findings
            FROM audit.pii_residual GROUP BY ALL ORDER BY source, ticket_id""",
    )
    redacted = one("SELECT count(*) FROM audit.redacted_tickets").fetchone()[0]
    residual_checked = one(
        "SELECT count(*) FROM audit.pii_scan_state WHERE residual_hash IS NOT NULL"
    ).fetchone()[0]

    env = cfg.audit.hash_key_env
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
        "capabilities": capabilities or {},
        "settings": {
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
        },
        "method": METHOD,
    }


def summary(exposure: dict[str, Any]) -> dict[str, Any]:
    """The `pii` key of scorecard.json (DESIGN.md), plus a few more counts."""
    return {
        "tickets_with_pii_share": exposure["tickets_with_pii_share"],
        "by_entity": exposure["by_entity"],
        "residual_findings_after_redaction": exposure["residual_findings_after_redaction"],
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
