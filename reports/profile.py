"""Data profile of the loaded tickets: what was read, loaded and quarantined, fill rates, months."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
from markupsafe import Markup

from reports.charts import bar_chart, column_chart
from reports.files import write_atomic
from reports.templating import render
from ticket_audit.model import MESSAGE_FIELDS, TICKET_FIELDS


def compute_profile(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> dict[str, Any]:
    """Profile from the canonical tables and the quarantine (no raw values, counts only).

    `as_of`: the audit date (today by default); months after it are future-dated tickets, a
    defect the profile flags instead of charting them as ordinary months."""
    as_of = as_of or datetime.now(UTC).date()
    origins = _origins(con)
    total = con.execute("SELECT count(*) FROM canonical.tickets").fetchall()[0][0]
    fill_exprs = ", ".join(
        f"count({f.name}) FILTER (WHERE {f.name} IS NOT NULL"
        + (f" AND len({f.name}) > 0" if f.kind == "list" else "")
        + ")"
        for f in TICKET_FIELDS
    )
    fills = con.execute(f"SELECT {fill_exprs} FROM canonical.tickets").fetchall()[0]
    fill_rates = {f.name: (fills[i] / total if total else 0.0) for i, f in enumerate(TICKET_FIELDS)}
    months = con.execute(
        """SELECT strftime(created_month, '%Y-%m'), count(*) FROM canonical.tickets
        GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    reasons = con.execute(
        """SELECT source, coalesce(field, 'parse') AS field,
                  regexp_replace(reason, '^line [0-9]+: ', '') AS reason, count(*) AS n
        FROM raw.quarantine GROUP BY ALL ORDER BY n DESC LIMIT 20"""
    ).fetchall()
    msg_total, roles, msg_fill = _messages(con)
    tickets = [o for o in origins if o["kind"] == "tickets"]
    return {
        "tickets_total": total,
        "rows_read": sum(o["rows_read"] for o in tickets),
        "rows_loaded": sum(o["rows_loaded"] for o in tickets),
        "rows_quarantined": sum(o["rows_quarantined"] for o in tickets),
        "origins": origins,
        "field_fill_rates": fill_rates,
        "months_covered": len(months),
        "first_month": months[0][0] if months else None,
        "last_month": months[-1][0] if months else None,
        "as_of": as_of.isoformat(),
        "tickets_by_month": [
            {"month": m, "tickets": n, "after_audit_date": m > as_of.strftime("%Y-%m")}
            for m, n in months
        ],
        "future_months": [m for m, _ in months if m > as_of.strftime("%Y-%m")],
        "quarantine_reasons": [
            {"source": s, "field": f, "reason": r, "rows": n} for s, f, r, n in reasons
        ],
        "messages_total": msg_total,
        "messages_by_role": roles,
        "message_fill_rates": msg_fill,
    }


def _origins(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Rows read, loaded and quarantined per origin and kind."""
    # What the store holds now, per origin: a database or API source loads in many chunks
    # (and re-reads updated tickets), so one load's figures are not the origin's.
    loads = con.execute(
        """WITH kinds AS (SELECT source, origin, min(kind) AS kind FROM audit.load_log
                       GROUP BY ALL),
        loaded AS (
            SELECT source, origin, 'tickets' AS kind, count(*) AS n
            FROM canonical.tickets GROUP BY ALL
            UNION ALL
            SELECT source, origin, 'messages', count(*) FROM canonical.messages
            WHERE (source, origin) IN (SELECT (source, origin) FROM kinds WHERE kind = 'messages')
            GROUP BY ALL),
        held AS (
            SELECT q.source, q.origin, coalesce(k.kind, 'tickets') AS kind, count(*) AS n
            FROM raw.quarantine q LEFT JOIN kinds k USING (source, origin) GROUP BY ALL)
        SELECT source, origin, kind, coalesce(l.n, 0) + coalesce(h.n, 0),
               coalesce(l.n, 0), coalesce(h.n, 0)
        FROM loaded l FULL JOIN held h USING (source, origin, kind)
        ORDER BY source, origin, kind"""
    ).fetchall()
    origins = [
        dict(
            zip(
                ("source", "origin", "kind", "rows_read", "rows_loaded", "rows_quarantined"),
                r,
                strict=True,
            )
        )
        for r in loads
    ]
    return origins


def _messages(con: duckdb.DuckDBPyConnection) -> tuple[int, dict, dict]:
    """Messages in the store, by author role, and each field's fill rate."""
    msg_total = con.execute("SELECT count(*) FROM canonical.messages").fetchall()[0][0]
    roles = dict(
        con.execute(
            "SELECT author_role, count(*) FROM canonical.messages GROUP BY 1 ORDER BY 1"
        ).fetchall()
    )
    msg_fill = {}
    if msg_total:
        exprs = ", ".join(f"count({f.name})" for f in MESSAGE_FIELDS)
        row = con.execute(f"SELECT {exprs} FROM canonical.messages").fetchall()[0]
        msg_fill = {f.name: row[i] / msg_total for i, f in enumerate(MESSAGE_FIELDS)}
    return msg_total, roles, msg_fill


def render_markdown(p: dict[str, Any]) -> str:
    lines = [
        "# Data profile of the loaded tickets",
        "",
        f"- Tickets loaded: **{p['tickets_total']:,}**; rows read {p['rows_read']:,}, "
        f"loaded {p['rows_loaded']:,}, quarantined {p['rows_quarantined']:,} "
        "(ticket rows; messages files per origin below)",
        f"- Months covered: {p['months_covered']} ({p['first_month']} to {p['last_month']})",
        f"- Messages: {p['messages_total']:,} "
        + ", ".join(f"{k} {v:,}" for k, v in p["messages_by_role"].items()),
        "",
        "## Origins",
        "",
        "| source | origin | kind | read | loaded | quarantined |",
        "|---|---|---|---:|---:|---:|",
    ]
    for o in p["origins"]:
        lines.append(
            f"| {o['source']} | {Path(o['origin']).name} | {o['kind']} | {o['rows_read']:,} | "
            f"{o['rows_loaded']:,} | {o['rows_quarantined']:,} |"
        )
    lines += ["", "## Field fill rates (tickets)", "", "| field | filled |", "|---|---:|"]
    lines += [f"| {k} | {v:.1%} |" for k, v in p["field_fill_rates"].items()]
    lines += [
        "",
        "## Quarantine reasons",
        "",
        "| source | field | reason | rows |",
        "|---|---|---|---:|",
    ]
    lines += [
        f"| {r['source']} | {r['field']} | {r['reason']} | {r['rows']:,} |"
        for r in p["quarantine_reasons"]
    ] or ["| - | - | none | 0 |"]
    lines += ["", "## Tickets by month", "", "| month | tickets | note |", "|---|---:|---|"]
    lines += [
        f"| {m['month']} | {m['tickets']:,} | "
        f"{'after the audit date' if m.get('after_audit_date') else ''} |"
        for m in p["tickets_by_month"]
    ]
    return "\n".join(lines) + "\n"


def render_html(p: dict[str, Any]) -> str:
    """profile.html with the reports' shared layout (reports/templates/profile.html.j2)."""
    future = set(p.get("future_months") or [])
    note = f"after the audit date {p.get('as_of')}: future-dated tickets"
    charts = {
        "months": column_chart(
            [(m["month"], m["tickets"]) for m in p["tickets_by_month"]],
            name="months",
            title="Tickets by month created",
            flagged=future,
            flag_note=note,
        ),
        "fill": bar_chart(
            [(k, v * 100) for k, v in p["field_fill_rates"].items()],
            name="fill_rates",
            title="Field fill rate (%)",
            value_format="{:.1f}%",
            max_value=100,
        ),
    }
    return render(
        "profile.html.j2",
        p=p,
        charts={k: Markup(v) for k, v in charts.items()},  # built from escaped parts
        origin_name=lambda o: Path(o).name,
    )


def write_profile(p: dict[str, Any], output_dir: Path) -> list[Path]:
    return [
        write_atomic(output_dir / "profile.json", json.dumps(p, indent=2, default=str)),
        write_atomic(output_dir / "profile.md", render_markdown(p)),
        write_atomic(output_dir / "profile.html", render_html(p)),
    ]
