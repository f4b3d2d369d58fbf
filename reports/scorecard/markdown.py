"""scorecard.md: the same content as the HTML page, as text tables (no charts)."""

from __future__ import annotations

from reports import quality_section
from reports.escape import md_text
from reports.format import hours, label_evidence, ms, num, pct, signed, verdict


def _issues(title: str, issues: list[dict]) -> list[str]:
    if not issues:
        return [f"## {title}", "", "None.", ""]
    lines = [f"## {title}", "", "| issue | owner | action |", "|---|---|---|"]
    lines += [
        f"| {_cell(i['issue'])} | {_cell(i['owner'])} | {_cell(i['action'])} |" for i in issues
    ]
    return [*lines, ""]


def _cell(text: object) -> str:
    return md_text(text)


def _breakdown(title: str, groups: dict) -> list[str]:
    if not groups:
        return []
    lines = [
        f"### {title}",
        "",
        "| | tickets | per month | median resolution | mean resolution | median first response | CSAT |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {_cell(k)} | {num(v.get('tickets'))} | {num(v.get('monthly_volume'), 1)} | "
        f"{hours(v.get('median_resolution_hours'))} | {hours(v.get('mean_resolution_hours'))} | "
        f"{hours(v.get('median_first_response_hours'))} | {num(v.get('csat_mean'), 2)} |"
        for k, v in groups.items()
    ]
    return [*lines, ""]


def _worklist(w: dict | None) -> list[str]:
    if not w:
        return []
    lines = [
        "## Worklist: what fixing the data would take",
        "",
        f"{num(w.get('tickets'))} tickets removed by the funnel, listed in `worklist.csv` with "
        f"step, owner and fix; {num(w.get('with_suggestion'))} with a suggested category.",
        "",
        "| step | tickets | with a suggestion | owner |",
        "|---|---:|---:|---|",
        *[
            f"| {_cell(s['step'])} | {num(s['tickets'])} | {num(s['with_suggestion'])} | "
            f"{_cell(s['owner'])} |"
            for s in w.get("by_step") or []
        ],
        "",
    ]
    if w.get("what_it_would_take"):
        lines += [
            "**What it would take** (first N fixed, the funnel and the rules re-run)",
            "",
            "| first N fixed | usable labelled | usable share | score | verdict |",
            "|---:|---:|---:|---:|---|",
            *[
                f"| {num(x['fixed'])} | {num(x['usable_labeled_tickets'])} | "
                f"{pct(x['usable_labeled_share'])} | {round(100 * x['score'])} | "
                f"{verdict(x['verdict'])} |"
                for x in w["what_it_would_take"]
            ],
            "",
        ]
    return lines


def _below_min(ret: dict) -> list[str]:
    below = ret.get("categories_below_min_queries") or {}
    if not below.get("categories"):
        return []
    return [
        f"{num(below['categories'])} more categories with fewer than "
        f"{num(below['min_queries'])} queries each ({num(below['queries'])} in all) are not "
        "shown: too few to measure.",
        "",
    ]


def render_markdown(card: dict) -> str:
    q = card.get("quality") or {}
    out = [
        *_header(card),
        "## Quality",
        "",
        quality_section.render_markdown(q),
        "",
        *_worklist(card.get("worklist")),
        *_personal_data(card.get("pii") or {}),
        *_retrieval(card.get("retrieval") or {}),
        *_baselines(card.get("baselines") or {}),
        *_ownership(card.get("ownership") or {}),
        *_trends(card),
    ]
    return "\n".join(out).rstrip() + "\n"


def _header(card: dict) -> list[str]:
    """Title, verdict and score, layer scores, and the issues behind the verdict."""
    r = card.get("readiness") or {}
    q = card.get("quality") or {}
    return [
        "# GenAI readiness scorecard",
        "",
        f"{_cell(card.get('audit_name'))} · audit {_cell(card.get('audit_id'))} · generated "
        f"{card.get('generated_at')} · {num(card.get('tickets_total'))} tickets",
        "",
        f"**Verdict: {verdict(r.get('verdict'))}** · score {round(100 * (r.get('score') or 0))} / 100",
        "",
        f"**Usable labelled: {pct(q.get('usable_labeled_share'))}** · {label_evidence(q)}",
        "",
        "| layer | score | weight | status |",
        "|---|---:|---:|---|",
        *[
            f"| {k} | {'did not run' if v is None else f'{round(100 * v)} / 100'} | "
            f"{pct((r.get('weights') or {}).get(k, 0) / (sum((r.get('weights') or {}).values()) or 1), 0)} | "
            f"{((r.get('layer_status') or {}).get(k) or '—').replace('_', ' ')} |"
            for k, v in (r.get("layer_scores") or {}).items()
        ],
        "",
        "The score is the weighted mean of the layer scores; the verdict comes from the "
        "issues: any blocker makes the history not ready, otherwise any condition makes it "
        "ready with conditions. A layer's status is its worst issue, whatever its score "
        "(the HTML page lists every check with its threshold).",
        "",
        *_issues("Blocking issues", r.get("blocking_issues") or []),
        *(_issues("Conditions", r["conditions"]) if r.get("conditions") else []),
    ]


def _personal_data(pii: dict) -> list[str]:
    return [
        "## Personal data",
        "",
        f"- Tickets with PII: {pct(pii.get('tickets_with_pii_share'))}",
        f"- Residual findings after redaction: {num(pii.get('residual_findings_after_redaction'))}",
        *[
            f"- {k}: {num(v)} tickets"
            for k, v in sorted((pii.get("by_entity") or {}).items(), key=lambda kv: -(kv[1] or 0))
        ],
        "",
    ]


def _retrieval(ret: dict) -> list[str]:
    proj = ret.get("projection") or {}
    return [
        "## Retrieval feasibility",
        "",
        ret.get("verdict") or "The retrieval probe did not run.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| engine | {ret.get('engine') or '—'} |",
        f"| index | {num(ret.get('index_size'))} tickets, {num(ret.get('index_bytes'))} bytes |",
        f"| queries (held-out tickets) | {num(ret.get('queries'))} |",
        f"| measured | {ret.get('measured_at') or '—'}"
        + (
            f" (kept: {num(ret['kept']['corpus_tickets_now'])} tickets now vs "
            f"{num(ret.get('corpus_tickets'))} measured, within retrieval.remeasure_growth)"
            if ret.get("kept")
            else ""
        )
        + " |",
        f"| latency p50 / p95 / p99 | {ms(ret.get('p50_ms'))} / {ms(ret.get('p95_ms'))} / {ms(ret.get('p99_ms'))} |",
        f"| projected volume | {num(proj.get('monthly_volume'))}/month × {num(proj.get('retention_months'))} months = {num(proj.get('projected_docs'))} ({proj.get('method', '—')}) |",
        f"| projected p50 / p95 / p99 | {ms(proj.get('p50_ms'))} / {ms(proj.get('p95_ms'))} / {ms(proj.get('p99_ms'))} |",
        f"| precision@5 (same category) | {pct(ret.get('precision_at_5'))} |",
        f"| top hit has an agent reply | {pct(ret.get('top_hit_reply_share'))} |",
        "",
        *(
            [
                "| category | queries | precision@5 |",
                "|---|---:|---:|",
                *[
                    f"| {_cell(c)} | {num(v['queries'])} | {pct(v['precision_at_5'])} |"
                    for c, v in sorted((ret.get("precision_at_5_by_category") or {}).items())
                ],
                "",
                *_below_min(ret),
            ]
            if ret.get("precision_at_5_by_category")
            else []
        ),
    ]


def _baselines(b: dict) -> list[str]:
    return [
        "## Business baselines",
        "",
        f"- Monthly volume: {num(b.get('monthly_volume'))} tickets",
        f"- Resolution time, median / mean: {hours(b.get('median_resolution_hours'))} / {hours(b.get('mean_resolution_hours'))}",
        f"- First response, median / mean: {hours(b.get('median_first_response_hours'))} / {hours(b.get('mean_first_response_hours'))}",
        f"- CSAT: {num(b.get('csat_mean'), 2)} of 5 ({pct(b.get('csat_response_rate'))} of resolved tickets rated)",
        "",
        *_breakdown("By category", b.get("by_category") or {}),
        *_breakdown("By channel", b.get("by_channel") or {}),
    ]


def _ownership(o: dict) -> list[str]:
    out = [
        "## Ownership",
        "",
        f"Ownership score {pct(o.get('score'), 0)}.",
        "",
        "| area | owner | contact | last review | status |",
        "|---|---|---|---|---|",
        *[
            f"| {_cell(x.get('title') or x['area'])} | {_cell(x.get('owner') or '—')} | "
            f"{_cell(x.get('contact') or '—')} | {_cell(x.get('reviewed_on') or '—')} | "
            f"{_cell(x['status'])} |"
            for x in o.get("responsibilities") or []
        ],
        "",
    ]
    if o.get("fields_without_steward"):
        out += [
            f"Fields without a steward: {', '.join(map(_cell, o['fields_without_steward']))}.",
            "",
        ]
    ev = o.get("evidence") or {}
    if ev.get("by_team"):
        out += [
            "| team | tickets | untagged |",
            "|---|---:|---:|",
            *[
                f"| {_cell(t['team'])} | {num(t['tickets'])} | {pct(t['untagged_share'])} |"
                for t in ev["by_team"]
            ],
            "",
        ]
    return out


def _trends(card: dict) -> list[str]:
    t = card.get("trends") or {}
    out = ["## Trends and drift", ""]
    audits = t.get("audits") or []
    out += [
        "| audit | generated | verdict | score | tagging coverage | usable labelled | p95 |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    out += [
        f"| {_cell(a['audit_id'])} | {a.get('generated_at')} | {_cell(a.get('verdict'))} | "
        f"{num(a.get('score'), 2)} | {pct(a.get('tagging_coverage'))} | "
        f"{pct(a.get('usable_labeled_share'))} | {ms(a.get('p95_ms'))} |"
        for a in audits
    ]
    out.append("")
    d = card.get("category_drift") or {}
    if d.get("tvd") is not None:
        out += [
            f"Category mix drift since the previous audit (total variation distance): "
            f"{pct(d['tvd'])}.",
            "",
            "| category | previous | now | change |",
            "|---|---:|---:|---:|",
        ]
        out += [
            f"| {_cell(c['category'])} | {pct(c['previous'])} | {pct(c['current'])} | "
            f"{signed(c['delta'])} |"
            for c in d.get("changes") or []
        ]
    else:
        out.append("First audit of this history: drift appears from the next audit on.")
    return [*out, ""]
