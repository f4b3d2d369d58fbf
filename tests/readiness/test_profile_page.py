"""profile.html: the reports' shared layout, and months after the audit date flagged."""

from __future__ import annotations

import re
from datetime import date

from reports.profile import compute_profile, render_html, render_markdown


def test_months_after_the_audit_date_are_flagged(store, loaded) -> None:
    history, _ = loaded
    # The generated history ends in its spec's end month and plants future-dated tickets.
    end = date.fromisoformat(history.manifest()["spec"]["end_month"])
    as_of = date(end.year, end.month, 28)
    p = compute_profile(store, as_of=as_of)
    months = {m["month"]: m for m in p["tickets_by_month"]}
    expected_future = (
        store.sql(
            "SELECT DISTINCT strftime(created_month, '%Y-%m') AS m FROM canonical.tickets "
            f"WHERE created_month > DATE '{as_of:%Y-%m-01}' ORDER BY 1"
        )
        .pl()
        .get_column("m")
        .to_list()
    )
    assert expected_future, "the generated history plants future-dated tickets"
    assert p["future_months"] == expected_future
    assert [m for m, x in months.items() if x["after_audit_date"]] == expected_future
    html = render_html(p)
    flagged = re.findall(r'<tr class="flagged"><td>([0-9-]+)</td>', html)
    assert flagged == expected_future
    assert "after the audit date" in html and 'data-chart="months"' in html
    assert "<pre>" not in html and 'nav class="toc"' in html
    md = render_markdown(p)
    assert all(f"| {m} |" in md for m in expected_future)
    # A profile taken after every month has none flagged.
    later = compute_profile(store, as_of=date(2100, 1, 1))
    assert later["future_months"] == [] and 'class="flagged"' not in render_html(later)
