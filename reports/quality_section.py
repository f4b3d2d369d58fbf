"""The quality section of the scorecard (HTML and Markdown) from the `quality` summary.

Self-contained: inline SVG charts, no script, no external file. Everything shown comes from
the summary, which holds counts, shares, labels and ticket ids only (never ticket text);
every value is escaped all the same.
"""

from __future__ import annotations

from markupsafe import Markup

from reports.charts import coverage_chart, funnel_chart
from reports.escape import md_text
from reports.format import DASH, num, pct
from reports.templating import render

HEADLINE = (
    ("usable_labeled_share", "Usable labelled data (share of all tickets read)"),
    ("tagging_coverage", "Tagging coverage (category present and in the taxonomy)"),
    ("label_conflict_share", "Tickets in duplicate groups with conflicting categories"),
    ("label_issue_share", "Implausible labels (out-of-fold classifier, confident learning)"),
    ("catch_all_share", "Catch-all categories"),
    ("duplicate_share", "Duplicates (later copies, exact or near)"),
)
EXAMPLES_SHOWN = 5


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
    shown = ", ".join(str(i) for i in ids[:EXAMPLES_SHOWN])
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
    if s.get("multi_label_tickets"):
        rows.insert(
            2,
            (
                "Multi-label tickets (several one-hot labels: kept, no single category)",
                f"{num(s['multi_label_tickets'])} of {num(s.get('tickets_loaded'))}",
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


def _block(
    title: str,
    headers: list[str],
    rows: list[list],
    numeric=(),
    text: str = "",
    id: str | None = None,
    after: str = "",
) -> dict:
    return {
        "title": title,
        "headers": headers,
        "rows": rows,
        "numeric": tuple(numeric),
        "text": text,
        "id": id,
        "after": after,
    }


def _blocks(s: dict) -> list[dict]:
    """The section's tables, in reading order: title, headers, rows of plain values (the
    template escapes them), right-aligned columns, a sentence before the table."""
    return [
        *_funnel_blocks(s),
        *_check_blocks(s),
        *_label_blocks(s),
        *_duplicate_blocks(s),
        *_reply_blocks(s),
        *_breakdown_blocks(s),
        *_example_blocks(s),
    ]


def _funnel_blocks(s: dict) -> list[dict]:
    """The funnel and what is wrong with the tickets it removes."""
    funnel = s.get("funnel") or []
    read = (funnel[0]["remaining"] if funnel else 0) or 1
    loaded = s.get("tickets_loaded") or 1
    out = [
        _block(
            "Funnel: what each criterion removes",
            ["step", "remaining", "share of all", "removed"],
            [
                [f["step"], num(f["remaining"]), pct(f["remaining"] / read), num(f.get("removed"))]
                for f in funnel
            ],
            (1, 2, 3),
            id="funnel",
        )
    ]
    held = []
    quarantined = s.get("quarantined") or {}
    if quarantined:
        held.append(
            "Not loaded (quarantined at ingest, by field): "
            + ", ".join(f"{k} {num(v)}" for k, v in quarantined.items())
            + "."
        )
    messages = s.get("quarantined_messages") or {}
    if messages:
        held.append(
            f"Messages not loaded ({num(sum(messages.values()))} rows, replies among them, "
            "quarantined at ingest, by field): "
            + ", ".join(f"{k} {num(v)}" for k, v in messages.items())
            + "."
        )
    out.append(
        _block(
            "What is wrong with the rest",
            ["criterion", "meaning", "tickets failing", "share"],
            [
                [
                    c["step"],
                    c["meaning"],
                    num(c["failing_tickets"]),
                    pct(c["failing_tickets"] / loaded),
                ]
                for c in s.get("criteria") or []
            ],
            (2, 3),
            text=" ".join(held),
            id="criteria",
        )
    )
    return out


def _check_blocks(s: dict) -> list[dict]:
    """The checks, metadata completeness and validity, leftovers and status-only fields."""
    out: list[dict] = []
    step_of = {c["key"]: c["step"] for c in s.get("criteria") or []}
    gx = s.get("gx") or {}
    out.append(
        _block(
            "Checks (Great Expectations suites, per month)",
            ["suite", "check", "tickets failing", "share", "removes from usable"],
            [
                [
                    c["suite"],
                    c["check"],
                    num(c["unexpected"]),
                    pct(c["share"]),
                    step_of.get(c.get("criterion"), c.get("criterion")) or "no (reported)",
                ]
                for c in s.get("checks") or []
            ],
            (2, 3),
            id="checks",
        )
    )
    comp, valid = s.get("metadata_completeness") or {}, s.get("metadata_validity") or {}
    out.append(
        _block(
            "Metadata completeness and validity",
            ["field", "present", "present and valid"],
            [[f, *_metadata_cells(s, f)] for f in dict.fromkeys([*comp, *valid])],
            (1, 2),
            id="metadata",
        )
    )
    out.append(
        _block(
            "Leftovers of broken tooling: unfilled template tokens",
            ["field", "token", "tickets"],
            [[t["field"], t["token"], num(t["tickets"])] for t in s.get("template_tokens") or []],
            (2,),
        )
    )
    out.append(
        _block(
            "Fields that exist only for some statuses",
            ["field", "present for", "absent for", "tickets without"],
            [
                [
                    p["field"],
                    ", ".join(p["present_for"]),
                    ", ".join(p["absent_for"]),
                    num(p["tickets_without"]),
                ]
                for p in s.get("status_patterns") or []
            ],
            (3,),
        )
    )
    if gx.get("data_docs"):
        out[0]["text"] = (
            f"{num(len(gx.get('validated_months') or []))} months validated; GX and SQL flags "
            f"disagree on {num(gx.get('gx_sql_mismatches'))} checks."
        )
        out[0]["link"] = gx["data_docs"]
    return out


def _label_blocks(s: dict) -> list[dict]:
    """Label consistency and rare categories."""
    out: list[dict] = []
    lc = s.get("label_classifier") or {}
    learn = lc.get("labels_learnable")
    label_text = (
        f"Out-of-fold classifier accuracy {pct(lc.get('classifier_accuracy'))} against "
        f"{pct(lc.get('chance_accuracy'))} for always guessing the largest category"
        + (
            ""
            if learn or learn is None
            else " — the text barely predicts the label, so implausible-label counts are weak "
            "evidence"
        )
        + f". {num(lc.get('auto_label_candidates'))} of "
        f"{num(lc.get('unlabelled_tickets'))} tickets without a usable label could be "
        "labelled confidently by the same model."
    )
    confusion = sorted(lc.get("confusion") or [], key=lambda c: -c["tickets"])[:8]
    out.append(
        _block(
            "Label consistency: labels the text contradicts",
            ["labelled", "text looks like", "tickets (confident joint)"],
            [[c["given"], c["suggested"], num(c["tickets"])] for c in confusion],
            (2,),
            text=label_text,
            id="labels",
        )
    )
    out.append(
        _block(
            "Rare categories",
            ["category", "tickets", "share", "in taxonomy"],
            [
                [
                    r["category"],
                    num(r["tickets"]),
                    pct(r["share"], 2),
                    "yes" if r.get("in_taxonomy") else "no",
                ]
                for r in s.get("rare_categories") or []
            ],
            (1, 2),
        )
    )
    return out


def _duplicate_blocks(s: dict) -> list[dict]:
    """Duplicates."""
    out: list[dict] = []
    dup = s.get("duplicates") or {}
    out.append(
        _block(
            "Duplicates",
            ["exact copies", "near copies", "groups", "groups with more than one category"],
            [
                [
                    num(dup.get("exact_copies")),
                    num(dup.get("near_copies")),
                    num(dup.get("groups")),
                    num(dup.get("conflicting_groups")),
                ]
            ]
            if dup
            else [],
            (0, 1, 2, 3),
            text=f"Scope: {dup.get('scope') or DASH}; near = word-shingle Jaccard ≥ "
            f"{dup.get('threshold') or DASH}."
            if dup
            else "",
            id="duplicates",
        )
    )
    return out


def _reply_blocks(s: dict) -> list[dict]:
    """Reply variability by category."""
    out: list[dict] = []
    var = s.get("response_variability_detail") or {}
    minimum = s.get("min_category_sample") or 1
    small = [r for r in var.get("by_category") or [] if r and (r["replies"] or 0) < minimum]
    out.append(
        _block(
            "Reply variability by category",
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
                    r["category"],
                    num(r["replies"]),
                    num(r["variability_score"], 2),
                    num(r["median_words"]),
                    num(r["length_cv"], 2),
                    pct(r["templated_share"]),
                    f"{pct(r['greeting_share'])} ({r.get('top_greeting') or DASH})",
                    f"{pct(r['signoff_share'])} ({r.get('top_signoff') or DASH})",
                    r.get("top_language") or DASH,
                    pct(r["apology_share"]),
                ]
                for r in [var.get("overall"), *(var.get("by_category") or [])]
                if r and r not in small
            ],
            (1, 2, 3, 4, 5, 9),
            id="replies",
            after=(
                f"{num(len(small))} more categories with fewer than {num(minimum)} replies each "
                f"({num(sum(r['replies'] for r in small))} in all) are not shown on their own: "
                "too few to measure."
            )
            if small
            else "",
        )
    )
    return out


def _breakdown_blocks(s: dict) -> list[dict]:
    """Tagging coverage and usable share by channel, team and month."""
    out: list[dict] = []
    for key, title in (
        ("by_channel", "By channel"),
        ("by_team", "By team"),
        ("by_month", "By month"),
    ):
        out.append(
            _block(
                title,
                ["value", "tickets", "tagging coverage", "usable"],
                [
                    [
                        r["value"],
                        num(r["tickets"]),
                        pct(r["tagging_coverage"]),
                        pct(r["usable_share"]),
                    ]
                    for r in s.get(key) or []
                ],
                (1, 2, 3),
                id=f"quality-{key.replace('_', '-')}",
            )
        )
    return out


def _example_blocks(s: dict) -> list[dict]:
    """Worst examples: ticket ids per check, implausible labels, duplicate groups."""
    out: list[dict] = []
    ex = s.get("worst_examples") or {}
    out += [
        _block(
            "Worst examples (ticket ids)",
            ["ticket", "fails"],
            [[w["ticket_id"], ", ".join(w["failed"])] for w in ex.get("worst_tickets") or []],
            id="worst-examples",
        ),
        _block(
            "Example tickets per check",
            ["check", "tickets"],
            [[k, _ids(v)] for k, v in (ex.get("by_check") or {}).items()],
        ),
        _block(
            "Example implausible labels",
            ["ticket", "labelled", "text looks like", "margin"],
            [
                [i["ticket_id"], i["given"], i["suggested"], num(i["margin"], 2)]
                for i in ex.get("label_issues") or []
            ],
            (3,),
        ),
        _block(
            "Example duplicate groups",
            ["duplicate group", "size", "categories", "tickets"],
            [
                [g["group_id"], num(g["size"]), num(g["distinct_categories"]), _ids(g["tickets"])]
                for g in ex.get("duplicate_groups") or []
            ],
            (1, 2),
        ),
    ]
    return out


def render_html(summary: dict, *, charts: bool = True) -> str:
    """The quality section (reports/templates/quality_section.html.j2); `charts=False` leaves
    out the funnel and coverage charts for a page that draws them itself."""
    s = summary or {}
    return render(
        "quality_section.html.j2",
        headline=_headline_rows(s),
        blocks=_blocks(s),
        funnel_chart=Markup(funnel_chart(s.get("funnel") or [])) if charts else "",
        coverage_chart=Markup(coverage_chart(_monthly(s))) if charts else "",
    )


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return []

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(md_text(c) for c in r) + " |" for r in rows]
    return out + [""]


def render_markdown(summary: dict) -> str:
    s = summary or {}
    lines = _md_table(["measure", "value"], [[k, v] for k, v in _headline_rows(s)])
    lines += _md_funnel(s) + _md_fields(s) + _md_replies(s) + _md_examples(s)
    return "\n".join(lines).rstrip() + "\n"


def _md_funnel(s: dict) -> list[str]:
    """The funnel, what ingest held back, and what is wrong with the rest."""
    lines: list[str] = []
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
    return lines


def _md_fields(s: dict) -> list[str]:
    """Metadata completeness and validity, template leftovers, status-only fields."""
    lines: list[str] = []
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
    return lines


def _md_replies(s: dict) -> list[str]:
    lines: list[str] = []
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
    return lines


def _md_examples(s: dict) -> list[str]:
    """The worst tickets and where the Data Docs are."""
    lines: list[str] = []
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
    return lines
