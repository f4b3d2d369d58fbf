"""The generator plants defects at exactly the configured shares and records the truth."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from ticket_audit.generator import DEFECTS, GeneratorSpec, generate_history
from ticket_audit.generator.pii_values import iban, luhn_complete


def test_rates_are_exact_and_manifest_matches_truth(tmp_path: Path) -> None:
    rates = {
        "missing_category": 0.4,
        "pii": 0.3,
        "exact_duplicate": 0.05,
        "invalid_timestamp": 0.02,
    }
    h = generate_history(GeneratorSpec(tickets=1000, rates=rates), tmp_path)
    manifest, truth = h.manifest(), h.truth()
    assert manifest["tickets_written"] == truth.height == 1000
    for defect in DEFECTS:
        expected = round(rates.get(defect, 0) * 1000)
        assert manifest["planted"][defect] == truth[defect].sum() == expected, defect
    tickets = pl.read_csv(h.tickets_path, infer_schema=False)
    missing = tickets.filter(pl.col("category").fill_null("") == "")
    assert set(missing["ticket_id"]) == set(
        truth.filter(pl.col("missing_category") == 1)["ticket_id"]
    )
    assert tickets["ticket_id"].n_unique() == 1000


def test_duplicates_copy_text_of_an_earlier_ticket(small_history) -> None:
    truth = small_history.truth()
    tickets = pl.read_csv(small_history.tickets_path, infer_schema=False)
    by_id = {r["ticket_id"]: r for r in tickets.iter_rows(named=True)}
    dups = truth.filter(pl.col("exact_duplicate") == 1)
    assert dups.height > 0
    for row in dups.iter_rows(named=True):
        copy, original = by_id[row["ticket_id"]], by_id[row["duplicate_of"]]
        assert copy["description"] == original["description"]
        assert copy["ticket_id"] != original["ticket_id"]


def test_pii_truth_offsets_point_at_planted_values(small_history) -> None:
    tickets = pl.read_csv(small_history.tickets_path, infer_schema=False)
    by_id = {r["ticket_id"]: r for r in tickets.iter_rows(named=True)}
    spans = [json.loads(line) for line in small_history.pii_truth_path.read_text().splitlines()]
    assert {s["entity_type"] for s in spans} >= {"EMAIL_ADDRESS", "CREDIT_CARD", "PERSON"}
    for span in spans:
        if span["field"] not in ("subject", "description"):
            continue
        value = by_id[span["ticket_id"]][span["field"]][span["start"] : span["end"]]
        assert value and value == value.strip(), span
        if span["entity_type"] == "EMAIL_ADDRESS":
            assert "@" in value
        if span["entity_type"] == "CREDIT_CARD":
            digits = "".join(c for c in value if c.isdigit())
            assert luhn_complete(digits[:-1]) == digits


def test_same_seed_same_history(tmp_path: Path) -> None:
    a = generate_history(GeneratorSpec(tickets=300, seed=3), tmp_path / "a")
    b = generate_history(GeneratorSpec(tickets=300, seed=3), tmp_path / "b")
    assert a.tickets_path.read_bytes() == b.tickets_path.read_bytes()


def test_iban_check_digits_are_valid() -> None:
    import random

    rng = random.Random(1)
    for country in ("DE", "GB", "FR", "NL"):
        value = iban(rng, country)
        rearranged = value[4:] + value[:4]
        assert int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def test_impossible_rates_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown defect"):
        GeneratorSpec(rates={"gremlins": 0.1})
    spec = GeneratorSpec(tickets=100, rates={"missing_category": 0.7, "wrong_category": 0.5})
    with pytest.raises(ValueError, match="rates.wrong_category"):
        generate_history(spec, tmp_path)
