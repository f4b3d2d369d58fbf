"""Owners file: validation that names the key, stale/missing detection, evidence from data."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from tests.conftest import REPO
from ticket_audit.config import ConfigError, load_config, parse_config
from ticket_audit.config.taxonomy import Taxonomy
from ticket_audit.ownership import (
    load_owners,
    owners_by_group,
    ownership_scorecard,
    parse_owners,
    tagging_evidence,
)
from ticket_audit.ownership.sample import use_sample_owners
from ticket_audit.ownership.scorecard import STEWARDED_FIELDS
from ticket_audit.tagging import tagged_labels

AS_OF = date(2026, 6, 30)


def owners(**areas) -> dict:
    return {"areas": areas}


def area(reviewed: str | None = "2026-06-01", team: str | None = "ops", **kw) -> dict:
    out = {"team": team, "contact": "ops@example.com", "last_review": reviewed, **kw}
    return {k: v for k, v in out.items() if v is not None}


def test_sample_owners_file_loads_with_a_stale_and_a_missing_area() -> None:
    o = load_owners(REPO / "configs" / "owners.yaml")
    card = ownership_scorecard(o, as_of=date(2026, 11, 21), stale_after_days=180)
    assert card["missing_owners"] == ["retrieval"]
    assert card["stale_reviews"] == ["taxonomy"]


def test_stale_and_missing_are_judged_against_the_given_date() -> None:
    o = parse_owners(
        owners(
            schema=area("2026-01-01"),  # 180 days before AS_OF: still fresh
            taxonomy=area("2025-12-31"),  # 181 days: stale
            cleaning=area(None),  # owned, never reviewed
            pii=area("2026-07-15"),  # dated after AS_OF
        )
    )  # retrieval absent: missing
    card = ownership_scorecard(o, as_of=AS_OF, stale_after_days=180)
    status = {r["area"]: r["status"] for r in card["responsibilities"]}
    assert status == {
        "schema": "ok",
        "taxonomy": "stale",
        "cleaning": "no_review",
        "pii": "review_in_future",
        "retrieval": "missing",
    }
    assert card["missing_owners"] == ["retrieval"]
    assert card["stale_reviews"] == ["taxonomy", "cleaning"]
    assert card["future_reviews"] == ["pii"]
    ages = {r["area"]: r["review_age_days"] for r in card["responsibilities"]}
    assert ages["schema"] == 180 and ages["taxonomy"] == 181


def test_the_threshold_is_configurable() -> None:
    o = parse_owners(owners(schema=area("2026-06-01")))
    assert (
        ownership_scorecard(o, as_of=AS_OF, stale_after_days=30)["responsibilities"][0]["status"]
        == "ok"
    )
    assert (
        ownership_scorecard(o, as_of=AS_OF, stale_after_days=28)["responsibilities"][0]["status"]
        == "stale"
    )


def test_an_area_with_neither_team_nor_contact_is_unowned() -> None:
    o = parse_owners(owners(schema={"last_review": "2026-06-01"}, taxonomy=None))
    card = ownership_scorecard(o, as_of=AS_OF, stale_after_days=180)
    assert card["missing_owners"] == ["schema", "taxonomy", "cleaning", "pii", "retrieval"]
    assert card["score"] == 0.0


def test_fields_without_steward_and_score() -> None:
    all_but_two = [f for f in STEWARDED_FIELDS if f not in ("csat", "language")]
    o = parse_owners(
        owners(
            schema=area(fields=all_but_two[:10]),
            taxonomy=area(fields=all_but_two[10:]),
            cleaning=area(),
            pii=area(),
            retrieval=area("2025-01-01"),
        )
    )
    card = ownership_scorecard(o, as_of=AS_OF, stale_after_days=180)
    assert card["fields_without_steward"] == ["language", "csat"]
    coverage = 1 - 2 / len(STEWARDED_FIELDS)
    assert card["steward_coverage"] == pytest.approx(coverage, abs=1e-4)
    # four areas fresh (1.0), retrieval stale (0.5)
    assert card["score"] == pytest.approx(0.8 * 4.5 / 5 + 0.2 * coverage, abs=1e-4)


def test_no_owners_file_means_everything_missing() -> None:
    card = ownership_scorecard(None, as_of=AS_OF, stale_after_days=180)
    assert len(card["missing_owners"]) == 5
    assert card["fields_without_steward"] == list(STEWARDED_FIELDS)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (owners(taxnomy=area()), "areas: unknown area(s) ['taxnomy']"),
        (owners(schema=area(contact="not-an-email")), "areas.schema.contact"),
        (owners(schema=area(reviewed="last spring")), "areas.schema.last_review"),
        (owners(pii=area(fields=["ssn"])), "areas.pii.fields"),
        (owners(schema={**area(), "owner": "x"}), "areas.schema.owner"),
        (owners(schema=area(team="ops/eu")), "areas.schema.team"),
    ],
)
def test_errors_name_the_file_and_key(data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_owners(data, origin="owners.yaml")
    assert "owners.yaml" in str(err.value) and key in str(err.value)


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="owners file not found"):
        load_owners(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("areas: [unclosed")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_owners(bad)


def _config(tmp_path: Path, owners_data: dict | None) -> object:
    data = {
        "sources": [
            {
                "name": "s",
                "kind": "file",
                "path": "t.csv",
                "mapping": {"fields": {"ticket_id": "id", "created_at": "c"}},
            }
        ]
    }
    if owners_data is not None:
        (tmp_path / "owners.yaml").write_text(yaml.safe_dump(owners_data))
        data["ownership"] = {"owners_file": "owners.yaml"}
    return parse_config(data, base_dir=tmp_path)


def test_owners_by_group_gives_dagster_valid_owners(tmp_path: Path) -> None:
    cfg = _config(
        tmp_path,
        owners(
            schema=area(team="data-platform"),
            taxonomy={"contact": "taxonomy@example.com"},
            cleaning=area(team="data-platform", dagster_groups=["quality", "cleaning"]),
            pii=area(team="Privacy Office"),
        ),
    )
    groups = owners_by_group(cfg)
    assert groups["ingest"] == ["team:data-platform", "ops@example.com"]
    assert groups["quality"] == ["taxonomy@example.com", "team:data-platform", "ops@example.com"]
    assert groups["cleaning"] == ["team:data-platform", "ops@example.com"]
    assert "readiness" not in groups  # retrieval has no owner
    for group, group_owners in groups.items():
        dg.AssetSpec(f"probe_{group}", owners=group_owners)  # raises on an invalid owner


def test_owners_by_group_without_owners_file(tmp_path: Path) -> None:
    assert owners_by_group(_config(tmp_path, None)) == {}


def test_untagged_evidence_by_team_and_channel() -> None:
    con = duckdb.connect()
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
        ('a', 'Billing', 'email', 'u1', NULL::TIMESTAMP),
        ('a', NULL,      'email', 'u1', NULL),
        ('a', 'Oops',    'chat',  'u2', NULL),
        ('b', 'Billing', 'chat',  'u2', NULL),
        (NULL, 'Billing', NULL,   'u3', NULL),
        ('b', NULL,      'chat',  'u3', TIMESTAMP '2026-01-01')
    ) v(team, category, channel, assignee_id, deleted_at)""")
    ev = tagging_evidence(con, "t", ["Billing"])
    assert (ev["tickets"], ev["untagged"]) == (5, 2)  # the deleted ticket is left out
    assert ev["by_team"][0] == {
        "team": "a",
        "tickets": 3,
        "untagged": 2,
        "untagged_share": pytest.approx(2 / 3),
    }
    assert {r["team"]: r["untagged"] for r in ev["by_team"]} == {"a": 2, "b": 0, "(none)": 0}
    assert {r["channel"]: r["untagged"] for r in ev["by_channel"]} == {
        "email": 1,
        "chat": 1,
        "(none)": 0,
    }
    assert ev["assignees"] == 3


def test_a_catch_all_label_is_tagged_and_an_unknown_one_is_not() -> None:
    con = duckdb.connect()
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
        ('a', 'Billing', 'email', 'u1', NULL::TIMESTAMP),
        ('a', 'Other',   'email', 'u1', NULL),
        ('a', 'Oops',    'chat',  'u2', NULL),
        ('a', NULL,      'chat',  'u2', NULL)
    ) v(team, category, channel, assignee_id, deleted_at)""")
    labels = tagged_labels(Taxonomy(categories={"Billing": []}, catch_all=["Other"]))
    assert labels == ["Billing", "Other"]
    assert tagging_evidence(con, "t", labels)["untagged"] == 2  # 'Oops' and NULL
    # No taxonomy: presence alone.
    assert tagged_labels(Taxonomy(catch_all=["Other"])) is None
    assert tagging_evidence(con, "t", None)["untagged"] == 1


def test_evidence_on_generated_history_matches_truth(loaded, store) -> None:
    history, cfg = loaded
    ev = tagging_evidence(store, "canonical.tickets", tagged_labels(cfg.taxonomy))
    truth = history.truth()
    quarantined = truth.filter(truth["invalid_timestamp"] == 1)
    kept = truth.filter(truth["invalid_timestamp"] == 0)
    # The quality layer's rule (tests/quality/truth.py): a catch-all label is a tagged ticket.
    untagged = kept.filter((kept["missing_category"] + kept["unknown_category"]) > 0).height
    assert kept.filter(kept["catch_all_category"] == 1).height > 0
    assert ev["tickets"] == len(truth) - quarantined.height
    assert ev["untagged"] == untagged


def test_sample_owners_attach_to_a_generated_config(small_history, tmp_path: Path) -> None:
    config = tmp_path / "audit.yaml"
    shutil.copyfile(small_history.config_path, config)
    assert use_sample_owners(config)
    cfg = load_config(config)
    assert cfg.resolve(cfg.ownership.owners_file) == tmp_path / "owners.yaml"
    assert owners_by_group(cfg)["pii"] == ["team:privacy-office", "privacy@nimbus.example"]
    assert not use_sample_owners(config)  # already set: left alone
