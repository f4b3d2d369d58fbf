"""Security test: unique canary values of every entity type, planted into a generated history,
must not appear anywhere the audit writes outside the restricted zone: no file in the output
directory (the redacted dataset read back, not grepped compressed), no log line, no Dagster
event (metadata included), nothing in the instance's storage, no `audit.*` table.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import dagster as dg
import polars as pl
import pyarrow.parquet as pq
import pytest

from ticket_audit.config import load_config
from ticket_audit.generator import GeneratorSpec, generate_history
from ticket_audit.generator.pii_values import iban, luhn_complete
from ticket_audit.store import open_store

pytestmark = pytest.mark.slow

CARD = luhn_complete("492973810457123")
CANARIES = {
    "EMAIL_ADDRESS": ("canary.q7x3z@example.net", "Please write to {v} instead."),
    "PHONE_NUMBER": ("+61 2 9374 4712", "Call me on {v} after six."),
    "PERSON": ("Zenobia Quillfeather", "My name is {v}."),
    "STREET_ADDRESS": ("7319 Quillfeather Lane, Springfield, IL 62704", "Ship it to {v} please."),
    "CREDIT_CARD": (" ".join(CARD[i : i + 4] for i in range(0, 16, 4)), "My card is {v}."),
    "IBAN_CODE": (iban(__import__("random").Random(90210), "FR"), "Refund to IBAN {v} please."),
    "US_SSN": ("538-71-4620", "My SSN is {v}."),
    "UK_NINO": ("JH 48 27 19 B", "My national insurance number is {v}."),
    "IP_ADDRESS": ("198.51.100.231", "The requests come from {v} today."),
    "DATE_OF_BIRTH": ("14 February 1937", "I was born on {v}."),
    "PASSWORD": ("Qz8!canaryPw", "My password is {v} if needed."),
    "API_KEY": ("sk_live_CANARYcanary0123456789ab", "Our API key: {v}."),
    "ACCESS_TOKEN": ("ghp_CANARYzz0123456789abcdefghijklmnopqr", "Token {v} stopped working."),
    "ACCOUNT_NUMBER": ("ACC-90817263", "My account number is {v}."),
}

# Canaries typed into the label and metadata columns (each a value the patterns find without
# context): they must be redacted in the dataset and never reach a report, a log or audit.*.
LABEL_CARD = luhn_complete("453201511283036")
LABEL_CANARIES = {
    "category": "cat.canary9k@example.net",
    "subcategory": "+61 2 9374 4799",
    "product": " ".join(LABEL_CARD[i : i + 4] for i in range(0, 16, 4)),
    "team": "team.canary8w@example.org",
    "tags": "tag.canary3v@example.com",
    "assignee": "agent.canary5p@example.com",
}
ALL_VALUES = {
    **{e: v for e, (v, _) in CANARIES.items()},
    **{f"label:{f}": v for f, v in LABEL_CANARIES.items()},
}


def _plant(history) -> None:
    """Append canary sentences to descriptions (mirrored into the first message), one email
    into a subject and one password into a later customer message."""
    tickets = pl.read_csv(history.tickets_path, infer_schema_length=0)
    messages = pl.read_csv(history.messages_path, infer_schema_length=0)
    loadable = history.truth().filter(pl.col("invalid_timestamp") == 0)["ticket_id"].to_list()
    ids = loadable[10 : 10 + len(CANARIES)]
    extra = {
        tid: " " + tpl.format(v=v) for tid, (_, (v, tpl)) in zip(ids, CANARIES.items(), strict=True)
    }
    tickets = tickets.with_columns(
        pl.struct("ticket_id", "description")
        .map_elements(
            lambda r: (r["description"] or "") + extra.get(r["ticket_id"], ""), return_dtype=pl.Utf8
        )
        .alias("description"),
        pl.when(pl.col("ticket_id") == ids[0])
        .then(pl.col("subject") + " - " + CANARIES["EMAIL_ADDRESS"][0])
        .otherwise(pl.col("subject"))
        .alias("subject"),
    )
    note = "\n\nInternal: customer said their password is Qz8!canaryPw"
    messages = messages.with_columns(
        pl.struct("ticket_id", "seq", "body")
        .map_elements(
            lambda r: (
                (r["body"] or "")
                + (extra.get(r["ticket_id"], "") if r["seq"] == "0" else "")
                + (note if (r["ticket_id"], r["seq"]) == (ids[1], "1") else "")
            ),
            return_dtype=pl.Utf8,
        )
        .alias("body"),
    )
    # One ticket per label column, away from the free-text canaries.
    label_ids = loadable[40 : 40 + len(LABEL_CANARIES)]
    for tid, (column, value) in zip(label_ids, LABEL_CANARIES.items(), strict=True):
        new = pl.col(column) + ";" + value if column == "tags" else pl.lit(value)
        tickets = tickets.with_columns(
            pl.when(pl.col("ticket_id") == tid).then(new).otherwise(pl.col(column)).alias(column)
        )
    tickets.write_csv(history.tickets_path)
    messages.write_csv(history.messages_path)


def _hits(blob: str) -> set[str]:
    return {key for key, value in ALL_VALUES.items() if value in blob}


def _file_text(path: Path) -> str:
    if path.suffix == ".parquet" or path.is_dir():  # a file, or the dataset directory
        return json.dumps(pq.read_table(path).to_pylist(), default=str)
    return path.read_bytes().decode("utf-8", errors="replace")


def test_canaries_never_leave_the_restricted_zone(
    tmp_path: Path, scanner, monkeypatch, caplog, capfd
) -> None:
    # The canaries are unique and each is detectable in its sentence (else the test proves nothing).
    history = generate_history(GeneratorSpec(tickets=300, seed=61, months=3), tmp_path / "data")
    original = history.tickets_path.read_text() + history.messages_path.read_text()
    assert not _hits(original)
    for entity, (value, tpl) in CANARIES.items():
        text = tpl.format(v=value)
        findings = scanner.scan_one(text)
        found = [(f.entity_type, text[f.start : f.end]) for f in findings]
        if entity == "STREET_ADDRESS":  # the city is its own LOCATION (scan.split_addresses)
            start = text.index(value)
            covered = {i for f in findings for i in range(f.start, f.end)}
            assert ("STREET_ADDRESS", value.split(",")[0]) in found, found
            assert all(i in covered for i in range(start, start + len(value)) if text[i].isalnum())
            continue
        assert (entity, value) in found, (entity, found)
    for column, value in LABEL_CANARIES.items():
        assert scanner.scan([value], patterns_only=True)[0], column
    _plant(history)
    planted = history.tickets_path.read_text() + history.messages_path.read_text()
    assert _hits(planted) == set(ALL_VALUES)

    from pipelines.runner import run_audit
    from pipelines.settings import CONFIG_ENV, OUTPUT_ENV

    monkeypatch.setenv(CONFIG_ENV, str(history.config_path))
    monkeypatch.setenv(OUTPUT_ENV, str(tmp_path / "out"))
    monkeypatch.setenv("TICKET_AUDIT_HASH_KEY", "canary-test-key")
    instance_dir = tmp_path / "dagster"
    instance_dir.mkdir()
    with (
        dg.DagsterInstance.local_temp(tempdir=str(instance_dir)) as instance,
        caplog.at_level(logging.DEBUG),
    ):
        run = run_audit(
            history.config_path,
            tmp_path / "out",
            show_progress=False,
            verbose=True,
            instance=instance,
        )
        events = [dg.serialize_value(e) for rid in run.run_ids for e in instance.all_logs(rid)]
    out_text, err_text = capfd.readouterr()

    assert {"pii_findings", "redacted_tickets", "pii_residual_scan", "pii_exposure_report"} <= set(
        run.assets
    )
    out_dir = tmp_path / "out"
    assert (out_dir / "redacted_tickets").is_dir() and (out_dir / "pii_exposure.html").exists()

    leaks: dict[str, set[str]] = {}
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        if hit := _hits(_file_text(path)):
            leaks[f"output file {path.relative_to(out_dir)}"] = hit
    for path in sorted(p for p in instance_dir.rglob("*") if p.is_file()):
        if hit := _hits(_file_text(path)):
            leaks[f"dagster storage {path.relative_to(instance_dir)}"] = hit
    if hit := _hits("\n".join(events)):
        leaks["dagster events"] = hit
    if hit := _hits("\n".join(r.getMessage() for r in caplog.records)):
        leaks["log records"] = hit
    if hit := _hits(out_text + err_text):
        leaks["stdout/stderr"] = hit
    with open_store(load_config(history.config_path).duckdb_path) as con:
        tables = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'audit' AND data_type IN ('VARCHAR', 'JSON', 'VARCHAR[]')"
        ).fetchall()
        for table, column in tables:
            values = con.execute(
                f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM audit."{table}"'
            ).fetchall()
            if hit := _hits("\n".join(str(v) for (v,) in values)):
                leaks[f"audit.{table}.{column}"] = hit
        in_canonical = _hits(
            "\n".join(
                str(v)
                for v in con.execute(
                    "SELECT description, category, subcategory, product, team, "
                    "CAST(tags AS VARCHAR) FROM canonical.tickets"
                ).fetchall()
            )
        )
    # They were loaded: the restricted zone has them (the assignee is pseudonymised on load).
    assert in_canonical == set(ALL_VALUES) - {"label:assignee"}
    assert not leaks, {k: sorted(v) for k, v in leaks.items()}
    # Redaction happened (the absence above is not an empty dataset).
    assert "<EMAIL_" in _file_text(out_dir / "redacted_tickets")
    # The label canaries are reported, by field; the scorecard carries the language table.
    exposure = json.loads((out_dir / "pii_exposure.json").read_text())
    fields = {r["field"] for r in exposure["by_field"]}
    assert {"category", "subcategory", "product", "team", "tags"} <= fields, fields
    # The measured miss rate per type is in the report compliance reads.
    assert exposure["measured_accuracy"]["by_entity"]["PERSON"]["recall"] > 0.5
    card = json.loads((out_dir / "scorecard.json").read_text())
    assert card["pii"]["by_language"]["en"]["texts"] > 0
    assert any(d.startswith("NER ") for d in card["pii"]["by_language"]["en"]["detectors"])
    assert isinstance(card["pii"]["masked_placeholder_tickets"], int)
