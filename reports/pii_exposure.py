"""The PII exposure report for compliance: `pii_exposure.html`, `.csv` and `.json`.

Input is the dict of `ticket_audit.pii.exposure.compute_exposure`: counts, shares, entity
types and ticket ids. The report has no access to any text, so it cannot leak one.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from reports.charts import bar_chart, column_chart
from reports.escape import SafeDictWriter
from reports.files import write_atomic
from reports.templating import render

# The HTML lists this many high-risk tickets; the CSV and JSON list them all.
HTML_TICKET_LIMIT = 500

CSV_COLUMNS = (
    "section",
    "key",
    "entity_type",
    "tickets",
    "tickets_exposed",
    "share",
    "findings",
    "distinct_values",
    "detail",
)


def render_html(exposure: dict[str, Any]) -> str:
    """pii_exposure.html with the reports' shared layout (reports/templates/)."""
    charts = {
        "entities": bar_chart(
            [(e["entity_type"], 100 * e["tickets_share"]) for e in exposure["entities"]],
            name="pii_entities",
            title="Tickets exposed, by entity type (% of scanned tickets)",
            value_format="{:.1f}%",
        ),
        "fields": bar_chart(
            [(r["field"], 100 * r["tickets_share"]) for r in exposure["by_field"]],
            name="pii_fields",
            title="Tickets exposed, by field (% of scanned tickets)",
            value_format="{:.1f}%",
        ),
        "channels": bar_chart(
            [(r["value"], 100 * r["share_exposed"]) for r in exposure["by_channel"]],
            name="pii_channels",
            title="Tickets exposed, by channel (% of the channel's tickets)",
            value_format="{:.1f}%",
            max_value=100,
        ),
        "months": column_chart(
            [(r["value"], 100 * r["share_exposed"]) for r in exposure["by_month"]],
            name="pii_months",
            title="Tickets exposed, by month created (%)",
            value_format="{:.0f}%",
        ),
    }
    return render("pii_exposure.html.j2", x=exposure, charts=charts, limit=HTML_TICKET_LIMIT)


def render_csv(exposure: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = SafeDictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for rows in (_overall_rows, _field_rows, _breakdown_rows, _ticket_rows, _method_rows):
        # Row by row: DictWriter.writerows would bypass SafeDictWriter.writerow.
        for row in rows(exposure):
            w.writerow(row)
    return buf.getvalue()


def _overall_rows(exposure: dict[str, Any]) -> Iterator[dict]:
    """The whole history and each kind of data."""
    yield {
        "section": "overall",
        "key": "all tickets",
        "tickets": exposure["tickets_scanned"],
        "tickets_exposed": exposure["tickets_with_pii"],
        "share": exposure["tickets_with_pii_share"],
        "findings": exposure["findings_total"],
    }
    for e in exposure["entities"]:
        yield {
            "section": "entity",
            "key": "high risk" if e["high_risk"] else "",
            "entity_type": e["entity_type"],
            "tickets": exposure["tickets_scanned"],
            "tickets_exposed": e["tickets"],
            "share": e["tickets_share"],
            "findings": e["findings"],
            "distinct_values": e["distinct_values"],
            "detail": f"subject={e['in_subject']};description={e['in_description']};"
            f"messages={e['in_messages']}",
        }


def _field_rows(exposure: dict[str, Any]) -> Iterator[dict]:
    """Each field (messages by author role)."""
    for r in exposure["by_field"]:
        yield {
            "section": "field",
            "key": r["field"],
            "tickets": exposure["tickets_scanned"],
            "tickets_exposed": r["tickets"],
            "share": r["tickets_share"],
            "findings": r["findings"],
            "detail": ";".join(r["entity_types"]),
        }


def _breakdown_rows(exposure: dict[str, Any]) -> Iterator[dict]:
    """Each channel and month, and each kind of data in it."""
    for section, rows in (("channel", exposure["by_channel"]), ("month", exposure["by_month"])):
        for r in rows:
            yield {
                "section": section,
                "key": r["value"],
                "tickets": r["tickets"],
                "tickets_exposed": r["tickets_exposed"],
                "share": r["share_exposed"],
                "detail": ";".join(f"{k}={v}" for k, v in r["by_entity"].items()),
            }
            for entity, n in r["by_entity"].items():
                yield {
                    "section": f"{section}_entity",
                    "key": r["value"],
                    "entity_type": entity,
                    "tickets": r["tickets"],
                    "tickets_exposed": n,
                    "share": round(n / r["tickets"], 6) if r["tickets"] else 0.0,
                }


def _ticket_rows(exposure: dict[str, Any]) -> Iterator[dict]:
    """High-risk tickets and what redaction left."""
    for r in exposure["high_risk_tickets"]:
        yield {
            "section": "high_risk_ticket",
            "key": f"{r['source']}/{r['ticket_id']}",
            "entity_type": ";".join(r["entity_types"]),
            "findings": r["findings"],
            "detail": ";".join(r["fields"]),
        }
    for entity, n in exposure["residual_by_entity"].items():
        yield (
            {"section": "residual", "key": "after redaction", "entity_type": entity, "findings": n}
        )
    for r in exposure["residual_tickets"]:
        yield {
            "section": "residual_ticket",
            "key": f"{r['source']}/{r['ticket_id']}",
            "entity_type": ";".join(r["entity_types"]),
            "findings": r["findings"],
            "detail": ";".join(r["fields"]),
        }


def _method_rows(exposure: dict[str, Any]) -> Iterator[dict]:
    """Languages, earlier placeholders, measured recall, what can and cannot be detected."""
    for lang, r in (exposure.get("by_language") or {}).items():
        yield {
            "section": "language",
            "key": lang,
            "tickets": r["tickets"],
            "findings": r["texts"],
            "detail": ";".join(r["detectors"]),
        }
    for r in exposure.get("masked_by_style") or []:
        yield {
            "section": "masked_placeholder",
            "key": r["style"],
            "tickets_exposed": r["tickets"],
            "findings": r["occurrences"],
        }
    for entity, r in ((exposure.get("measured_accuracy") or {}).get("by_entity") or {}).items():
        yield {
            "section": "measured_recall",
            "key": r.get("set") or "public labelled set",
            "entity_type": entity,
            "share": r["recall"],
            "detail": f"labelled={r['labelled']};precision={r['precision']}",
        }
    for group in ("detectable", "not_detectable"):
        for c in exposure["capabilities"].get(group, []):
            yield {
                "section": group,
                "key": c["method"],
                "entity_type": c["entity_type"],
                "detail": c.get("reason", ""),
            }


# orjson writes indented JSON in native code (the standard library's indented encoder is pure
# Python: most of the write time of 100k+ ticket rows). Dates and datetimes go through str(),
# as json.dumps(default=str) wrote them; non-string keys become strings as json.dumps makes them.
_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def exposure_json(exposure: dict[str, Any]) -> bytes:
    return orjson.dumps(exposure, default=str, option=_JSON_OPTIONS | orjson.OPT_APPEND_NEWLINE)


def write_pii_exposure(exposure: dict[str, Any], output_dir: str | Path) -> list[Path]:
    out = Path(output_dir)
    return [
        write_atomic(out / "pii_exposure.html", render_html(exposure)),
        write_atomic(out / "pii_exposure.csv", render_csv(exposure)),
        write_atomic(out / "pii_exposure.json", exposure_json(exposure)),
    ]
