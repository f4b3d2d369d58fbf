"""The quality section of the scorecard (HTML and Markdown) from the `quality` summary.

Self-contained: inline SVG charts, no script, no external file. Everything shown comes from
the summary, which holds counts, shares, labels and ticket ids only (never ticket text);
every value is escaped all the same.
"""

from __future__ import annotations

from html import escape

from reports.escape import md_text
from reports.scorecard.charts import coverage_chart, funnel_chart
from reports.scorecard.format import DASH, num, pct

HEADLINE = (
    ("usable_labeled_share", "Usable labelled data (share of all tickets read)"),
    ("tagging_coverage", "Tagging coverage (category present and in the taxonomy)"),
    ("label_conflict_share", "Tickets in duplicate groups with conflicting categories"),
    ("label_issue_share", "Implausible labels (out-of-fold classifier, confident learning)"),
    ("catch_all_share", "Catch-all categories"),
    ("duplicate_share", "Duplicates (later copies, exact or near)"),
)
EXAMPLES_SHOWN = 5


def _e(value: object) -> str:
    return escape(DASH if value is None else str(value))


def _table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><tr>{head}</tr>{body}</table>"


def _monthly(summary: dict) -> list[dict]:
    # Months after the export hold only future-dated defects: no coverage to chart.
    last = str(summary.get("as_of") or "9999-12")[:7]
    return [
        {
            "month": str(r["value"]),
            "tickets": r["tickets"],
            "tagged": round((r.get("tagging_coverage") or 0) * r["tickets"]),
        }
        for r in summary.get("by_month") or []
        if r.get("tickets") and str(r["value"])[:7] <= last
    ]


def _ids(ids: list | None) -> str:
    ids = list(ids or [])
    shown = ", ".join(escape(str(i)) for i in ids[:EXAMPLES_SHOWN])
    return shown + (" …" if len(ids) > EXAMPLES_SHOWN else "")


def _headline_value(s: dict, key: str) -> str:
    lc = s.get("label_classifier") or {}
    if key == "label_issue_share" and lc.get("classifier_skill") is None:
        return "not checked: too few labelled tickets per category for a classifier"
    if key == "label_issue_share" and not lc.get("labels_learnable"):
        return (
            f"not checked: the text does not predict the labels (skill "
            f"{lc['classifier_skill']:.2f} on {num(lc.get('scored_tickets'))} tickets)"
        )
    if key == "usable_labeled_share" and s.get("usable_labeled_verified") is False:
        return f"{pct(s.get(key))} (labels unverified)"
    return pct(s.get(key))


def _headline_rows(s: dict) -> list[tuple[str, str]]:
    rows = [(label, _headline_value(s, key)) for key, label in HEADLINE]
    rows.insert(
        1,
        (
            "Usable labelled tickets",
            f"{num(s.get('usable_labeled_tickets'))} of {num(s.get('tickets_read'))}",
        ),
    )
    rv = s.get("response_variability")
    rows.append(
        (
            "Response variability (0 = every reply alike, 1 = no two alike)",
            num(rv, 2)
            if isinstance(rv, int | float)
            else "no replies"
            if s.get("agent_replies") == 0
            else DASH,
        )
    )
    return rows


def _metadata_cells(s: dict, field: str) -> list[str]:
    """Present / present-and-valid shares; "not mapped" for a field no source maps (its
    checks never ran: a 100% there would be a number about nothing)."""
    if field in (s.get("unmapped_fields") or []):
        return ["not mapped", "not mapped"]
    comp, valid = s.get("metadata_completeness") or {}, s.get("metadata_validity") or {}
    return [pct(comp.get(field)), pct(valid.get(field))]


def render_html(summary: dict, *, charts: bool = True) -> str:
    """The quality section; `charts=False` leaves out the funnel and coverage charts for a
    page that draws them itself."""
    s = summary or {}
    parts = ['<section class="quality-section">', '<table class="kv">']
    parts += [f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in _headline_rows(s)]
    parts.append("</table>")
    if charts:
        parts.append(funnel_chart(s.get("funnel") or []))
    funnel = s.get("funnel") or []
    read = (funnel[0]["remaining"] if funnel else 0) or 1
    parts.append("<h3>Funnel: what each criterion removes</h3>")
    parts.append(
        _table(
            ["step", "remaining", "share of all", "removed"],
            [
                [
                    _e(f["step"]),
                    num(f["remaining"]),
                    pct(f["remaining"] / read),
                    num(f.get("removed")),
                ]
                for f in funnel
            ],
        )
    )
    if charts:
        parts.append(coverage_chart(_monthly(s)))

    parts.append("<h3>What is wrong with the rest</h3>")
    loaded = s.get("tickets_loaded") or 1
    parts.append(
        _table(
            ["criterion", "meaning", "tickets failing", "share"],
            [
                [
                    _e(c["step"]),
                    _e(c["meaning"]),
                    num(c["failing_tickets"]),
                    pct(c["failing_tickets"] / loaded),
                ]
                for c in s.get("criteria") or []
            ],
        )
    )
    quarantined = s.get("quarantined") or {}
    if quarantined:
        parts.append(
            "<p>Not loaded (quarantined at ingest, by field): "
            + ", ".join(f"{_e(k)} {num(v)}" for k, v in quarantined.items())
            + ".</p>"
        )
    held = s.get("quarantined_messages") or {}
    if held:
        parts.append(
            f"<p>Messages not loaded ({num(sum(held.values()))} rows, replies among them, "
            "quarantined at ingest, by field): "
            + ", ".join(f"{_e(k)} {num(v)}" for k, v in held.items())
            + ".</p>"
        )
    parts.append("<h4>Checks (Great Expectations suites, per month)</h4>")
    step_of = {c["key"]: c["step"] for c in s.get("criteria") or []}
    parts.append(
        _table(
            ["suite", "check", "tickets failing", "share", "removes from usable"],
            [
                [
                    _e(c["suite"]),
                    _e(c["check"]),
                    num(c["unexpected"]),
                    pct(c["share"]),
                    _e(step_of.get(c.get("criterion"), c.get("criterion")) or "no (reported)"),
                ]
                for c in s.get("checks") or []
            ],
        )
    )
    gx = s.get("gx") or {}
    if gx.get("data_docs"):
        parts.append(
            f'<p class="muted">Great Expectations Data Docs: <a href="{escape(gx["data_docs"])}">'
            f"{escape(gx['data_docs'])}</a> ({num(len(gx.get('validated_months') or []))} months"
            f" validated; GX and SQL flags disagree on {num(gx.get('gx_sql_mismatches'))} "
            "checks).</p>"
        )

    parts.append("<h3>Metadata completeness and validity</h3>")
    comp, valid = s.get("metadata_completeness") or {}, s.get("metadata_validity") or {}
    parts.append(
        _table(
            ["field", "present", "present and valid"],
            [[_e(f), *_metadata_cells(s, f)] for f in dict.fromkeys([*comp, *valid])],
        )
    )
    tokens = s.get("template_tokens") or []
    if tokens:
        parts.append("<h3>Leftovers of broken tooling: unfilled template tokens</h3>")
        parts.append(
            _table(
                ["field", "token", "tickets"],
                [
                    [_e(t["field"]), f"<code>{_e(t['token'])}</code>", num(t["tickets"])]
                    for t in tokens
                ],
            )
        )
    patterns = s.get("status_patterns") or []
    if patterns:
        parts.append("<h3>Fields that exist only for some statuses</h3>")
        parts.append(
            _table(
                ["field", "present for", "absent for", "tickets without"],
                [
                    [
                        _e(p["field"]),
                        _e(", ".join(p["present_for"])),
                        _e(", ".join(p["absent_for"])),
                        num(p["tickets_without"]),
                    ]
                    for p in patterns
                ],
            )
        )

    parts.append("<h3>Label consistency</h3>")
    lc = s.get("label_classifier") or {}
    learn = lc.get("labels_learnable")
    parts.append(
        f"<p>Out-of-fold classifier accuracy {pct(lc.get('classifier_accuracy'))} against "
        f"{pct(lc.get('chance_accuracy'))} for always guessing the largest category"
        + (
            ""
            if learn or learn is None
            else " — the text barely predicts the label, so implausible-label counts are weak "
            "evidence"
        )
        + f". {num(lc.get('auto_label_candidates'))} of "
        f"{num(lc.get('unlabelled_tickets'))} tickets without a usable label could be "
        "labelled confidently by the same model.</p>"
    )
    confusion = sorted(lc.get("confusion") or [], key=lambda c: -c["tickets"])[:8]
    parts.append(
        _table(
            ["labelled", "text looks like", "tickets (confident joint)"],
            [[_e(c["given"]), _e(c["suggested"]), num(c["tickets"])] for c in confusion],
        )
    )
    rare = s.get("rare_categories") or []
    if rare:
        parts.append("<h4>Rare categories</h4>")
        parts.append(
            _table(
                ["category", "tickets", "share", "in taxonomy"],
                [
                    [
                        _e(r["category"]),
                        num(r["tickets"]),
                        pct(r["share"], 2),
                        "yes" if r.get("in_taxonomy") else "no",
                    ]
                    for r in rare
                ],
            )
        )

    dup = s.get("duplicates") or {}
    parts.append("<h3>Duplicates</h3>")
    parts.append(
        f"<p>{num(dup.get('exact_copies'))} exact and {num(dup.get('near_copies'))} near copies "
        f"in {num(dup.get('groups'))} groups (scope: {_e(dup.get('scope'))}, near = word-"
        f"shingle Jaccard ≥ {_e(dup.get('threshold'))}); {num(dup.get('conflicting_groups'))} "
        "groups carry more than one category.</p>"
    )

    var = s.get("response_variability_detail") or {}
    minimum = s.get("min_category_sample") or 1
    small = [r for r in var.get("by_category") or [] if r and (r["replies"] or 0) < minimum]
    rows = [
        r for r in [var.get("overall"), *(var.get("by_category") or [])] if r and r not in small
    ]
    if rows:
        parts.append("<h3>Reply variability by category</h3>")
        parts.append(
            _table(
                [
                    "category",
                    "replies",
                    "score",
                    "median words",
                    "length CV",
                    "templated",
                    "greeting",
                    "sign-off",
                    "top language",
                    "apologetic",
                ],
                [
                    [
                        _e(r["category"]),
                        num(r["replies"]),
                        num(r["variability_score"], 2),
                        num(r["median_words"]),
                        num(r["length_cv"], 2),
                        pct(r["templated_share"]),
                        f"{pct(r['greeting_share'])} ({_e(r.get('top_greeting'))})",
                        f"{pct(r['signoff_share'])} ({_e(r.get('top_signoff'))})",
                        _e(r.get("top_language")),
                        pct(r["apology_share"]),
                    ]
                    for r in rows
                ],
            )
        )
        if small:
            parts.append(
                f'<p class="muted">{num(len(small))} more categories with fewer than '
                f"{num(minimum)} replies each ({num(sum(r['replies'] for r in small))} in all) "
                "are not shown on their own: too few to measure.</p>"
            )

    for key, title in (
        ("by_channel", "By channel"),
        ("by_team", "By team"),
        ("by_month", "By month"),
    ):
        rows = s.get(key) or []
        if rows:
            parts.append(f"<h3>{escape(title)}</h3>")
            parts.append(
                _table(
                    ["value", "tickets", "tagging coverage", "usable"],
                    [
                        [
                            _e(r["value"]),
                            num(r["tickets"]),
                            pct(r["tagging_coverage"]),
                            pct(r["usable_share"]),
                        ]
                        for r in rows
                    ],
                )
            )

    ex = s.get("worst_examples") or {}
    if ex:
        parts.append("<h3>Worst examples (ticket ids)</h3>")
        parts.append(
            _table(
                ["ticket", "fails"],
                [
                    [_e(w["ticket_id"]), _e(", ".join(w["failed"]))]
                    for w in ex.get("worst_tickets") or []
                ],
            )
        )
        parts.append(
            _table(
                ["check", "tickets"],
                [[_e(k), _ids(v)] for k, v in (ex.get("by_check") or {}).items()],
            )
        )
        parts.append(
            _table(
                ["ticket", "labelled", "text looks like", "margin"],
                [
                    [_e(i["ticket_id"]), _e(i["given"]), _e(i["suggested"]), num(i["margin"], 2)]
                    for i in ex.get("label_issues") or []
                ],
            )
        )
        parts.append(
            _table(
                ["duplicate group", "size", "categories", "tickets"],
                [
                    [
                        _e(g["group_id"]),
                        num(g["size"]),
                        num(g["distinct_categories"]),
                        _ids(g["tickets"]),
                    ]
                    for g in ex.get("duplicate_groups") or []
                ],
            )
        )
    parts.append("</section>")
    return "".join(p for p in parts if p)


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return []

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(md_text(c) for c in r) + " |" for r in rows]
    return out + [""]


def render_markdown(summary: dict) -> str:
    s = summary or {}
    lines = _md_table(["measure", "value"], [[k, v] for k, v in _headline_rows(s)])
    funnel = s.get("funnel") or []
    read = (funnel[0]["remaining"] if funnel else 0) or 1
    lines += ["**Funnel**", ""]
    lines += _md_table(
        ["step", "remaining", "share of all", "removed"],
        [
            [f["step"], num(f["remaining"]), pct(f["remaining"] / read), num(f.get("removed"))]
            for f in funnel
        ],
    )
    for key, what in (("quarantined", "Tickets"), ("quarantined_messages", "Message rows")):
        held = s.get(key) or {}
        if held:
            lines += [
                f"{what} not loaded (quarantined at ingest, by field): "
                + ", ".join(f"{k} {num(v)}" for k, v in held.items()),
                "",
            ]
    loaded = s.get("tickets_loaded") or 1
    lines += ["**What is wrong with the rest**", ""]
    lines += _md_table(
        ["criterion", "tickets failing", "share"],
        [
            [c["step"], num(c["failing_tickets"]), pct(c["failing_tickets"] / loaded)]
            for c in s.get("criteria") or []
        ],
    )
    comp, valid = s.get("metadata_completeness") or {}, s.get("metadata_validity") or {}
    lines += _md_table(
        ["field", "present", "present and valid"],
        [[f, *_metadata_cells(s, f)] for f in dict.fromkeys([*comp, *valid])],
    )
    tokens = s.get("template_tokens") or []
    if tokens:
        lines += ["**Unfilled template tokens**", ""]
        lines += _md_table(
            ["field", "token", "tickets"],
            [[t["field"], t["token"], num(t["tickets"])] for t in tokens],
        )
    patterns = s.get("status_patterns") or []
    if patterns:
        lines += ["**Fields that exist only for some statuses**", ""]
        lines += _md_table(
            ["field", "present for", "absent for", "tickets without"],
            [
                [
                    p["field"],
                    ", ".join(p["present_for"]),
                    ", ".join(p["absent_for"]),
                    num(p["tickets_without"]),
                ]
                for p in patterns
            ],
        )
    var = s.get("response_variability_detail") or {}
    minimum = s.get("min_category_sample") or 1
    small = [r for r in var.get("by_category") or [] if r and (r["replies"] or 0) < minimum]
    rows = [
        r for r in [var.get("overall"), *(var.get("by_category") or [])] if r and r not in small
    ]
    if rows:
        lines += ["**Reply variability by category**", ""]
        lines += _md_table(
            ["category", "replies", "score", "templated", "length CV"],
            [
                [
                    r["category"],
                    num(r["replies"]),
                    num(r["variability_score"], 2),
                    pct(r["templated_share"]),
                    num(r["length_cv"], 2),
                ]
                for r in rows
            ],
        )
        if small:
            lines += [
                f"{num(len(small))} more categories with fewer than {num(minimum)} replies each "
                f"({num(sum(r['replies'] for r in small))} in all) are not shown on their own: "
                "too few to measure.",
                "",
            ]
    ex = (s.get("worst_examples") or {}).get("worst_tickets") or []
    if ex:
        lines += ["**Worst examples (ticket ids)**", ""]
        lines += _md_table(
            ["ticket", "fails"],
            [[w["ticket_id"], ", ".join(w["failed"])] for w in ex[:EXAMPLES_SHOWN]],
        )
    gx = s.get("gx") or {}
    if gx.get("data_docs"):
        lines.append(f"Great Expectations Data Docs: `{gx['data_docs']}`")
    return "\n".join(lines).rstrip() + "\n"
