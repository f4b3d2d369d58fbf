"""The one "tagged" rule with per-team label sets: a label counts for its own team only."""

from __future__ import annotations

import duckdb

from ticket_audit.config.taxonomy import Taxonomy
from ticket_audit.tagging import tagged_labels, tagged_predicate


def test_a_label_is_tagged_for_its_own_team_only() -> None:
    tax = Taxonomy.model_validate(
        {
            "categories": {"Billing": []},
            "catch_all": ["Other"],
            "by_team": {
                "AmazonHelp": {"categories": {"Delivery": [], "Refund": []}},
                "AppleSupport": {"categories": {"iPhone": [], "Refund": []}, "catch_all": []},
            },
        }
    )
    rows = [
        ("AmazonHelp", "Delivery", True),
        ("AmazonHelp", "iPhone", False),  # another brand's label
        ("AmazonHelp", "Other", True),  # the inherited catch-all is a label
        ("AppleSupport", "Refund", True),
        ("AppleSupport", "Other", False),  # this team has no catch-all
        ("Spotify", "Billing", True),  # other teams: the taxonomy's own categories
        ("Spotify", "Delivery", False),
        (None, "Billing", True),
        ("AmazonHelp", None, False),
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (team VARCHAR, category VARCHAR, expected BOOLEAN)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    sql, params = tagged_predicate(tagged_labels(tax))
    got = con.execute(f"SELECT team, category, {sql}, expected FROM t", params).fetchall()
    assert [(a, b, c) for a, b, c, _ in got] == [(a, b, e) for a, b, e in rows]
