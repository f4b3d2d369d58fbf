"""The DuckDB steps: findings, redaction, residual scan, report; incremental re-audits."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from connectors.ingest import ingest_config
from reports.pii_exposure import write_pii_exposure
from tests.pii.conftest import TEST_KEY, store_for
from ticket_audit.config.pii import Operator
from ticket_audit.generator import GeneratorSpec, generate_history
from ticket_audit.pii.analyzer import model_capabilities
from ticket_audit.pii.exposure import compute_exposure, summary
from ticket_audit.pii.redact_tickets import redact_window
from ticket_audit.pii.redacted_dataset import export_dataset
from ticket_audit.pii.residual import residual_scan
from ticket_audit.pii.scan_tickets import scan_window
from ticket_audit.pii.ticket_texts import WindowQuery
from ticket_audit.summaries import load_summaries, save_summary

QUIET = {"log": lambda _msg: None}


def _planted_values(history) -> list[tuple[str, str]]:
    """(entity type, raw value) of every PII value the generator planted."""
    texts = {}
    tickets = pl.read_csv(history.tickets_path, infer_schema_length=0)
    for tid, subject, desc in tickets.select("ticket_id", "subject", "description").iter_rows():
        texts[(tid, "subject")], texts[(tid, "description")] = subject or "", desc or ""
    values = set()
    for line in history.pii_truth_path.read_text().splitlines():
        r = json.loads(line)
        if r["field"] in ("subject", "description"):
            values.add(
                (r["entity_type"], texts[(r["ticket_id"], r["field"])][r["start"] : r["end"]])
            )
    return sorted(values)


def _audit_text(con) -> str:
    """Every text cell of the PII layer's tables except the redacted texts themselves."""
    parts = []
    for table in ("pii_findings", "pii_residual", "pii_scan_state", "layer_summaries"):
        cols = [
            c
            for c, t in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'audit' AND table_name = ?",
                [table],
            ).fetchall()
            if t in ("VARCHAR", "JSON")
        ]
        for col in cols:
            parts += [
                str(v) for (v,) in con.execute(f'SELECT "{col}" FROM audit.{table}').fetchall()
            ]
    return "\n".join(parts)


def test_full_layer_on_a_generated_history(pii_history, hasher, tmp_path: Path) -> None:
    history, cfg = pii_history
    store = store_for(cfg)
    scanned = scan_window(cfg, store, hasher=hasher, **QUIET)
    assert scanned.tickets_scanned == scanned.tickets_in_window > 0
    assert scanned.findings_written > 0
    redacted = redact_window(cfg, store, hasher=hasher, **QUIET)
    assert redacted.tickets_redacted == scanned.tickets_in_window
    residual = residual_scan(cfg, store, hasher=hasher, **QUIET)
    assert residual.tickets_checked == scanned.tickets_in_window
    export = export_dataset(store, tmp_path / "out")
    path, rows = export.path, export.rows
    with store() as con:
        exposure = compute_exposure(con, cfg, model_capabilities(cfg.pii))
        save_summary(con, "pii", summary(exposure))
        pii = load_summaries(con)["pii"]
        audit_text = _audit_text(con)
        n_tickets, n_messages = con.execute(
            "SELECT (SELECT count(*) FROM canonical.tickets), (SELECT count(*) FROM canonical.messages)"
        ).fetchone()
        redacted_counts = con.execute(
            "SELECT (SELECT count(*) FROM audit.redacted_tickets), "
            "(SELECT count(*) FROM audit.redacted_messages)"
        ).fetchone()
        findings = con.execute("SELECT * FROM audit.pii_findings LIMIT 1").fetchall()[0]
        # A message that repeats the description repeats its detections (same value, same
        # offsets): counted once, independently of the report's query.
        all_findings, repeated = con.execute(
            """SELECT (SELECT count(*) FROM audit.pii_findings),
                      (SELECT count(*) FROM audit.pii_findings m JOIN audit.pii_findings d
                         USING (source, ticket_id, entity_type, start, "end", value_hash)
                       WHERE m.field LIKE 'message:%' AND d.field = 'description')"""
        ).fetchall()[0]
        # Per month, counted straight from the findings and the tickets, one by one.
        by_month = dict(
            con.execute(
                """SELECT strftime(t.created_month, '%Y-%m'),
                          count(*) FILTER (WHERE EXISTS (SELECT 1 FROM audit.pii_findings f
                              WHERE f.source = t.source AND f.ticket_id = t.ticket_id))
                   FROM canonical.tickets t GROUP BY 1"""
            ).fetchall()
        )
        # Per field, each message finding matched to its message by the field's name.
        by_field = {
            field: (tickets, findings)
            for field, tickets, findings in con.execute(
                """SELECT CASE WHEN f.field LIKE 'message:%'
                               THEN 'messages (' || coalesce(m.author_role, 'unknown') || ')'
                               ELSE f.field END,
                          count(DISTINCT (f.source, f.ticket_id)), count(*)
                   FROM audit.pii_findings f LEFT JOIN canonical.messages m
                     ON m.source = f.source AND m.ticket_id = f.ticket_id
                    AND f.field = 'message:' || m.seq
                   GROUP BY 1"""
            ).fetchall()
        }
    paths = write_pii_exposure(exposure, tmp_path / "out")
    assert {r["value"]: r["tickets_exposed"] for r in exposure["by_month"]} == by_month
    assert {r["field"]: (r["tickets"], r["findings"]) for r in exposure["by_field"]} == by_field
    assert {"subject", "description", "messages (agent)", "messages (customer)"} <= set(by_field)
    assert repeated > 0  # the generated first message repeats the description
    assert exposure["findings_total"] == all_findings - repeated
    assert sum(e["findings"] for e in exposure["entities"]) == all_findings - repeated
    assert any(r["tickets_exposed"] < r["tickets"] for r in exposure["by_month"])

    assert redacted_counts == (n_tickets, n_messages) and rows == n_tickets
    assert set(pii) >= {"tickets_with_pii_share", "by_entity", "residual_findings_after_redaction"}
    assert 0 < pii["tickets_with_pii_share"] <= 1
    assert pii["by_entity"]["EMAIL_ADDRESS"] > 0
    assert len(findings) == 10 and len(findings[8]) == 16  # value_hash, not a value

    # No planted value in the audit tables, the reports or the redacted dataset.
    values = _planted_values(history)
    assert len(values) > 50
    dataset = pq.read_table(path).to_pylist()
    blobs = {p.name: p.read_text() for p in paths}
    blobs["redacted_tickets/"] = json.dumps(dataset, default=str)
    blobs["audit tables"] = audit_text
    leaks = [(name, e) for name, blob in blobs.items() for e, v in values if v in blob]
    # Reports and audit tables never hold a value, detected or not. The redacted dataset holds
    # what detection missed: no pattern-detected value, and no more names than NER misses.
    assert all(name == "redacted_tickets/" for name, _ in leaks), sorted(set(leaks))
    assert {e for _, e in leaks} <= {"PERSON"}, sorted(set(leaks))
    names = sum(1 for e, _ in values if e == "PERSON")
    assert len(leaks) <= 0.1 * names, (len(leaks), names)
    # ... while the report does say what was found, and the dataset has placeholders.
    assert "CREDIT_CARD" in blobs["pii_exposure.html"] and "<CARD_" in blobs["redacted_tickets/"]


def test_rescan_touches_only_new_and_changed_tickets(tmp_path: Path, hasher) -> None:
    spec = GeneratorSpec(tickets=400, seed=29, months=3)
    history = generate_history(spec, tmp_path / "data")
    from tests.conftest import with_store
    from ticket_audit.config import load_config

    cfg = with_store(load_config(history.config_path), tmp_path)
    cfg.pii.n_process = 1
    ingest_config(cfg, progress=lambda _m: None)
    store = store_for(cfg)
    first = scan_window(cfg, store, hasher=hasher, **QUIET)
    redact_window(cfg, store, hasher=hasher, **QUIET)
    residual_scan(cfg, store, hasher=hasher, **QUIET)
    with store() as con:
        before = con.execute("SELECT count(*) FROM audit.pii_findings").fetchone()[0]
        placeholders = dict(
            con.execute("SELECT ticket_id, description FROM audit.redacted_tickets").fetchall()
        )

    # Add 2.5% new tickets (a later export), change one ticket's text, delete another.
    n_new = round(0.025 * first.tickets_in_window)
    tickets = pl.read_csv(history.tickets_path, infer_schema_length=0)
    new = tickets.head(n_new).with_columns(
        (pl.col("ticket_id") + "-NEW").alias("ticket_id"),
        (pl.col("description") + " Reach me at late.comer@example.com").alias("description"),
    )
    changed_id = tickets["ticket_id"][n_new + 3]
    deleted_id = tickets["ticket_id"][n_new + 5]
    edited = tickets.with_columns(
        pl.when(pl.col("ticket_id") == changed_id)
        .then(pl.col("description") + " My SSN is 536-22-8790.")
        .otherwise(pl.col("description"))
        .alias("description")
    ).filter(pl.col("ticket_id") != deleted_id)
    pl.concat([edited, new]).write_csv(history.tickets_path)
    ingest_config(cfg, progress=lambda _m: None)

    again = scan_window(cfg, store, hasher=hasher, **QUIET)
    assert again.tickets_scanned == n_new + 1
    assert again.tickets_removed == 1
    assert again.tickets_unchanged == first.tickets_in_window - 2
    red = redact_window(cfg, store, hasher=hasher, **QUIET)
    assert red.tickets_redacted == n_new + 1
    res = residual_scan(cfg, store, hasher=hasher, **QUIET)
    assert res.tickets_checked == n_new + 1
    with store() as con:
        ssn = con.execute(
            "SELECT count(*) FROM audit.pii_findings WHERE ticket_id = ? AND entity_type = 'US_SSN'",
            [changed_id],
        ).fetchone()[0]
        gone = con.execute(
            "SELECT (SELECT count(*) FROM audit.pii_findings WHERE ticket_id = ?) + "
            "(SELECT count(*) FROM audit.redacted_tickets WHERE ticket_id = ?) + "
            "(SELECT count(*) FROM audit.pii_scan_state WHERE ticket_id = ?)",
            [deleted_id] * 3,
        ).fetchone()[0]
        after = dict(
            con.execute("SELECT ticket_id, description FROM audit.redacted_tickets").fetchall()
        )
        total = con.execute("SELECT count(*) FROM audit.pii_findings").fetchone()[0]
    assert ssn == 1  # the edit went into the description only, not the first message
    assert gone == 0
    assert total > before
    # Untouched tickets keep exactly their redacted text (same key, same pseudonyms).
    same = [t for t in placeholders if t not in (changed_id, deleted_id)]
    assert all(after[t] == placeholders[t] for t in same)
    assert "late.comer" not in "".join(v for v in after.values() if v)

    # A nothing-changed re-run scans nothing.
    assert scan_window(cfg, store, hasher=hasher, **QUIET).tickets_scanned == 0
    # New settings mean new detection: everything is scanned again.
    cfg.pii.score_threshold = 0.6
    assert (
        scan_window(cfg, store, hasher=hasher, **QUIET).tickets_scanned == again.tickets_in_window
    )


def test_partition_windows_split_the_work(pii_history, hasher) -> None:
    _, cfg = pii_history
    store = store_for(cfg)
    with store() as con:
        months = [
            m
            for (m,) in con.execute(
                "SELECT DISTINCT created_month FROM canonical.tickets ORDER BY 1"
            ).fetchall()
        ]
    assert len(months) >= 3
    first = WindowQuery("created_month < ?", (months[1],))
    rest = WindowQuery("created_month >= ?", (months[1],))
    a = scan_window(cfg, store, first, hasher=hasher, **QUIET)
    redact_window(cfg, store, first, hasher=hasher, **QUIET)
    with store() as con:
        assert (
            con.execute("SELECT count(*) FROM audit.redacted_tickets").fetchone()[0]
            == a.tickets_in_window
        )
    b = scan_window(cfg, store, rest, hasher=hasher, **QUIET)
    redact_window(cfg, store, rest, hasher=hasher, **QUIET)
    with store() as con:
        total = con.execute("SELECT count(*) FROM canonical.tickets").fetchone()[0]
        assert con.execute("SELECT count(*) FROM audit.redacted_tickets").fetchone()[0] == total
    assert a.tickets_in_window + b.tickets_in_window == total


def test_residual_scan_reports_what_redaction_left(pii_history, hasher) -> None:
    _, cfg = pii_history
    cfg.pii.operators = {"EMAIL_ADDRESS": Operator(type="keep")}
    store = store_for(cfg)
    scan_window(cfg, store, hasher=hasher, **QUIET)
    redact_window(cfg, store, hasher=hasher, **QUIET)
    r = residual_scan(cfg, store, hasher=hasher, **QUIET)
    with store() as con:
        kept = con.execute(
            "SELECT count(*) FROM audit.pii_findings WHERE entity_type = 'EMAIL_ADDRESS'"
        ).fetchone()[0]
        exposure = compute_exposure(con, cfg)
    assert kept > 0
    assert r.by_entity.get("EMAIL_ADDRESS") == kept
    assert set(r.by_entity) == {"EMAIL_ADDRESS"}  # placeholders are not findings
    assert exposure["residual_findings_after_redaction"] == kept


@pytest.mark.parametrize("env_key", [None, "another-secret"])
def test_value_hashes_follow_the_key(pii_history, monkeypatch, env_key) -> None:
    from ticket_audit.pii.hashing import KeyedHasher

    _, cfg = pii_history
    if env_key:
        monkeypatch.setenv(cfg.audit.hash_key_env, env_key)
    else:
        monkeypatch.setenv(cfg.audit.hash_key_env, TEST_KEY)
    store = store_for(cfg)
    scan_window(cfg, store, **QUIET)
    with store() as con:
        row = con.execute(
            'SELECT f.value_hash, f.entity_type, f.start, f."end", t.description '
            "FROM audit.pii_findings f JOIN canonical.tickets t USING (source, ticket_id) "
            "WHERE f.field = 'description' LIMIT 1"
        ).fetchone()
    value_hash, entity, start, end, text = row
    expected = KeyedHasher(env_key or TEST_KEY).value_hash(entity, text[start:end])
    assert value_hash == expected


def _dataset_rows(path: Path) -> list[tuple]:
    """Every row of a dataset directory, read by DuckDB as one table, in a fixed order."""
    import duckdb

    return duckdb.sql(
        f"SELECT * FROM read_parquet('{path}/**/*.parquet', hive_partitioning = true) "
        "ORDER BY source, ticket_id"
    ).fetchall()


def _month_files(path: Path) -> dict[str, tuple[int, int]]:
    """{month directory: (inode, mtime_ns)} of each month's file: a rewrite changes both."""
    return {
        p.parent.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in path.glob("*/*.parquet")
    }


def test_export_rewrites_only_changed_months_and_equals_a_fresh_export(
    pii_history, hasher, tmp_path: Path
) -> None:
    _, cfg = pii_history
    store = store_for(cfg)
    scan_window(cfg, store, hasher=hasher, **QUIET)
    redact_window(cfg, store, hasher=hasher, **QUIET)
    out = tmp_path / "out"
    first = export_dataset(store, out)
    assert first.path == out / "redacted_tickets" and first.path.is_dir()
    assert first.months_copied == 0 and first.months_nested >= 4
    with store() as con:
        months = [
            m
            for (m,) in con.execute(
                "SELECT DISTINCT created_month FROM audit.redacted_tickets ORDER BY 1"
            ).fetchall()
        ]
        n_tickets = con.execute("SELECT count(*) FROM audit.redacted_tickets").fetchone()[0]
    # The hive layout: one directory per month, named for it.
    assert sorted(_month_files(first.path)) == [f"created_month={m.isoformat()}" for m in months]
    files = _month_files(first.path)

    again = export_dataset(store, out)
    assert (again.months_copied, again.months_nested) == (first.months_nested, 0)
    assert _month_files(again.path) == files  # no file was written again

    # A status changed in one month and a message body in another: those two months' files
    # are written again, the others are left as they were, and the dataset equals one
    # written from scratch.
    with store() as con:
        con.execute(
            "UPDATE audit.redacted_tickets SET status = 'reopened' WHERE ticket_id = "
            "(SELECT min(ticket_id) FROM audit.redacted_tickets WHERE created_month = ?)",
            [months[0]],
        )
        con.execute(
            """UPDATE audit.redacted_messages SET body = body || ' (edited)'
            WHERE (source, ticket_id) = (SELECT (source, min(ticket_id)) FROM audit.redacted_tickets
                                         WHERE created_month = ? GROUP BY source) AND seq = 1""",
            [months[-1]],
        )
    changed = export_dataset(store, out)
    fresh = export_dataset(store, tmp_path / "fresh")
    assert (changed.months_nested, changed.months_copied) == (2, first.months_nested - 2)
    assert fresh.months_copied == 0
    after = _month_files(changed.path)
    rewritten = {k for k in files if after[k] != files[k]}
    assert rewritten == {f"created_month={months[0]}", f"created_month={months[-1]}"}
    assert _dataset_rows(changed.path) == _dataset_rows(fresh.path)
    assert len(_dataset_rows(changed.path)) == n_tickets

    # polars, pandas and pyarrow read the directory as one table too, month column included.
    import pandas as pd
    import pyarrow.dataset as ds

    frame = pl.read_parquet(changed.path)
    assert frame.height == n_tickets and frame.schema["created_month"] == pl.Date
    assert "reopened" in frame["status"].to_list()
    assert set(frame["created_month"].unique().to_list()) == set(months)
    assert frame.filter(pl.col("created_month") == months[0]).height == sum(
        1 for r in _dataset_rows(changed.path) if r[-1] == months[0]
    )
    assert len(pd.read_parquet(changed.path)) == n_tickets
    table = ds.dataset(changed.path, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == n_tickets and "created_month" in table.column_names

    # A month file this function did not write (no fingerprint) is replaced, not trusted; a
    # stray file is removed (polars refuses a dataset directory holding other files), and so
    # is the single-file export of earlier versions.
    victim = changed.path / f"created_month={months[1]}" / "part-0.parquet"
    pq.write_table(pq.read_table(victim).replace_schema_metadata(None), victim)
    (changed.path / "notes.txt").write_text("not ours")
    (out / "redacted_tickets.parquet").write_bytes(b"old export")
    repaired = export_dataset(store, out)
    assert (repaired.months_nested, repaired.months_copied) == (1, first.months_nested - 1)
    assert not (changed.path / "notes.txt").exists()
    assert not (out / "redacted_tickets.parquet").exists()
    assert _dataset_rows(repaired.path) == _dataset_rows(fresh.path)

    # A month that no longer holds a ticket loses its directory.
    with store() as con:
        con.execute("DELETE FROM audit.redacted_tickets WHERE created_month = ?", [months[1]])
    shrunk = export_dataset(store, out)
    assert f"created_month={months[1]}" not in _month_files(shrunk.path)
    assert shrunk.rows == len(_dataset_rows(shrunk.path)) < n_tickets


def _redacted_rows(con) -> tuple[list, list]:
    order_t = "ORDER BY source, ticket_id"
    order_m = "ORDER BY source, ticket_id, seq"
    return (
        con.execute(f"SELECT * FROM audit.redacted_tickets {order_t}").fetchall(),
        con.execute(f"SELECT * FROM audit.redacted_messages {order_m}").fetchall(),
    )


def test_incremental_redaction_equals_a_full_rebuild(tmp_path: Path, hasher) -> None:
    """Only the tickets that need it are rewritten, and the result is what rebuilding every
    redacted row gives: new tickets, a status updated in place (as incremental sources do),
    a message made private, a ticket moved to another month, a deleted ticket."""
    history = generate_history(GeneratorSpec(tickets=300, seed=31, months=2), tmp_path / "d")
    from tests.conftest import with_store
    from ticket_audit.config import load_config

    cfg = with_store(load_config(history.config_path), tmp_path)
    cfg.pii.n_process = 1
    ingest_config(cfg, progress=lambda _m: None)
    store = store_for(cfg)
    scan_window(cfg, store, hasher=hasher, **QUIET)
    redact_window(cfg, store, hasher=hasher, **QUIET)

    with store() as con:
        ids = [
            r[0]
            for r in con.execute("SELECT ticket_id FROM canonical.tickets ORDER BY 1").fetchall()
        ]
        status_id, message_id, moved_id, deleted_id = ids[10], ids[20], ids[30], ids[40]
        # Seven new tickets (copies under new ids, with their conversations).
        for table in ("tickets", "messages"):
            con.execute(
                f"INSERT INTO canonical.{table} SELECT * REPLACE (ticket_id || '-NEW' AS ticket_id) "
                f"FROM canonical.{table} WHERE ticket_id IN (SELECT unnest(?))",
                [ids[:7]],
            )
        con.execute(
            "UPDATE canonical.tickets SET status = 'reopened-x' WHERE ticket_id = ?", [status_id]
        )
        con.execute(
            "UPDATE canonical.messages SET is_public = NOT coalesce(is_public, true) "
            "WHERE ticket_id = ? AND seq = 0",
            [message_id],
        )
        con.execute(
            "UPDATE canonical.tickets SET created_month = DATE '2001-01-01' WHERE ticket_id = ?",
            [moved_id],
        )
        con.execute("DELETE FROM canonical.messages WHERE ticket_id = ?", [deleted_id])
        con.execute("DELETE FROM canonical.tickets WHERE ticket_id = ?", [deleted_id])

    scan_window(cfg, store, hasher=hasher, **QUIET)
    result = redact_window(cfg, store, hasher=hasher, **QUIET)
    assert result.tickets_redacted >= 7  # the new tickets (the moved one may be rescanned)
    with store() as con:
        incremental = _redacted_rows(con)
        status = con.execute(
            "SELECT status FROM audit.redacted_tickets WHERE ticket_id = ?", [status_id]
        ).fetchone()
        public = con.execute(
            "SELECT r.is_public = c.is_public FROM audit.redacted_messages r "
            "JOIN canonical.messages c USING (source, ticket_id, seq) "
            "WHERE ticket_id = ? AND seq = 0",
            [message_id],
        ).fetchone()
        gone = con.execute(
            "SELECT count(*) FROM audit.redacted_tickets WHERE ticket_id = ?", [deleted_id]
        ).fetchone()[0]
        # Rebuild every redacted row from the same findings.
        con.execute("DELETE FROM audit.redacted_tickets")
        con.execute("DELETE FROM audit.redacted_messages")
        con.execute("UPDATE audit.pii_scan_state SET redacted_hash = NULL")
    assert status == ("reopened-x",) and public == (True,) and gone == 0
    # Rows are written again only for the new tickets and the three changed ones.
    assert result.tickets_rewritten == 7 + 3
    redact_window(cfg, store, hasher=hasher, **QUIET)
    with store() as con:
        rebuilt = _redacted_rows(con)
    assert len(incremental[0]) == len(rebuilt[0]) == len(ids) + 7 - 1
    assert incremental == rebuilt

    # A ticket that leaves a month leaves that month's redacted rows, and comes back with
    # the window of its new month.
    with store() as con:
        left_id, month = con.execute(
            "SELECT ticket_id, created_month FROM canonical.tickets ORDER BY ticket_id LIMIT 1"
        ).fetchone()
        con.execute(
            "UPDATE canonical.tickets SET created_month = DATE '2002-02-01' WHERE ticket_id = ?",
            [left_id],
        )
    redact_window(cfg, store, WindowQuery("created_month = ?", (month,)), hasher=hasher, **QUIET)
    count = "SELECT count(*) FROM audit.redacted_tickets WHERE ticket_id = ?"
    with store() as con:
        assert con.execute(count, [left_id]).fetchone()[0] == 0
    new_month = WindowQuery("created_month = DATE '2002-02-01'", ())
    scan_window(cfg, store, new_month, hasher=hasher, **QUIET)
    redact_window(cfg, store, new_month, hasher=hasher, **QUIET)
    with store() as con:
        assert con.execute(count, [left_id]).fetchone()[0] == 1


def test_residual_check_catches_what_the_first_pass_is_configured_to_miss(
    pii_history, hasher
) -> None:
    """The first pass does not look for e-mail addresses at all; the residual check is not
    the same detector again, so the addresses left in the redacted text are found."""
    _, cfg = pii_history
    cfg.pii.entities = [e for e in cfg.pii.entities if e != "EMAIL_ADDRESS"]
    store = store_for(cfg)
    scan_window(cfg, store, hasher=hasher, **QUIET)
    redact_window(cfg, store, hasher=hasher, **QUIET)
    r = residual_scan(cfg, store, hasher=hasher, **QUIET)
    with store() as con:
        first_pass = con.execute(
            "SELECT count(*) FROM audit.pii_findings WHERE entity_type = 'EMAIL_ADDRESS'"
        ).fetchone()[0]
        by_recognizer = dict(
            con.execute(
                "SELECT recognizer, count(*) FROM audit.pii_residual "
                "WHERE entity_type = 'EMAIL_ADDRESS' GROUP BY 1"
            ).fetchall()
        )
        redacted = "\n".join(
            str(v)
            for (v,) in con.execute("SELECT description FROM audit.redacted_tickets").fetchall()
        )
        summaries_pii = summary(compute_exposure(con, cfg))
    assert first_pass == 0
    planted = sum(
        1 for t, v in _planted_values(pii_history[0]) if t == "EMAIL_ADDRESS" and v in redacted
    )
    assert planted > 0
    assert by_recognizer.get("PresidioPredefined", 0) >= planted
    assert r.by_entity.get("EMAIL_ADDRESS", 0) >= planted
    # The layer cannot look clean with residual personal data in the dataset.
    from ticket_audit.readiness.rules import layer_scores

    assert summaries_pii["residual_findings_after_redaction"] > 0
    assert layer_scores({"pii": summaries_pii})["pii"] <= 0.6


def _residual_rows(store) -> list[tuple]:
    with store() as con:
        return con.execute(
            'SELECT source, ticket_id, field, entity_type, start, "end", score, recognizer, '
            "value_hash FROM audit.pii_residual ORDER BY ALL"
        ).fetchall()


def test_residual_rescans_only_what_the_redaction_changed_or_the_first_pass_flagged(
    pii_history, hasher, monkeypatch
) -> None:
    """Our scanner reads again the texts holding placeholders and those with first-pass
    findings, not the texts the first pass found clean (the same scanner on the same text
    can only find nothing again); the independent detector still reads every text."""
    import ticket_audit.pii.residual as residual
    import ticket_audit.pii.residual_check as residual_check

    _, cfg = pii_history
    store = store_for(cfg)
    scan_window(cfg, store, hasher=hasher, **QUIET)
    redact_window(cfg, store, hasher=hasher, **QUIET)
    rescanned: set[str] = set()
    independent: set[str] = set()
    scan_items, presidio_findings = residual.scan_items, residual_check.presidio_findings

    def spy_scan(scanner, items, **kwargs):
        rescanned.update(it.text for it in items if it.text)
        return scan_items(scanner, items, **kwargs)

    def spy_presidio(text):
        independent.add(text)
        return presidio_findings(text)

    monkeypatch.setattr(residual, "scan_items", spy_scan)
    monkeypatch.setattr(residual, "presidio_findings", spy_presidio)
    r = residual_scan(cfg, store, hasher=hasher, **QUIET)
    with store() as con:
        texts = con.execute(
            "SELECT r.description, f.ticket_id IS NOT NULL FROM audit.redacted_tickets r "
            "LEFT JOIN (SELECT DISTINCT ticket_id FROM audit.pii_findings "
            "WHERE field = 'description') f USING (ticket_id) WHERE r.description <> ''"
        ).fetchall()
    flagged = {t for t, had_findings in texts if had_findings}
    clean = {t for t, had_findings in texts if not had_findings} - flagged
    assert flagged and clean
    assert any("<PERSON_" in t for t in flagged)
    assert flagged <= rescanned
    assert not clean & rescanned
    assert {t for t, _ in texts} <= independent
    assert r.texts_known_clean > 0 and r.texts_rescanned > 0


def test_residual_findings_are_those_of_rescanning_every_text(
    pii_history, hasher, monkeypatch
) -> None:
    """Skipping the texts the first pass found clean changes no residual finding, also where
    the first pass's findings stay in the text (e-mail addresses kept by their operator)."""
    import ticket_audit.pii.residual as residual

    _, cfg = pii_history
    cfg.pii.operators = {"EMAIL_ADDRESS": Operator(type="keep")}
    store = store_for(cfg)
    scan_window(cfg, store, hasher=hasher, **QUIET)
    redact_window(cfg, store, hasher=hasher, **QUIET)
    skipping = residual_scan(cfg, store, hasher=hasher, **QUIET)
    rows = _residual_rows(store)
    with store() as con:
        con.execute("UPDATE audit.pii_scan_state SET residual_hash = NULL")
    monkeypatch.setattr(residual, "_known_clean", lambda con, batch: lambda it: False)
    everything = residual_scan(cfg, store, hasher=hasher, **QUIET)
    assert skipping.texts_known_clean > 0 and everything.texts_known_clean == 0
    assert skipping.by_entity.get("EMAIL_ADDRESS", 0) > 0
    assert rows == _residual_rows(store)


def test_residual_below_the_first_pass_threshold_rescans_every_text(pii_history, hasher) -> None:
    """A residual threshold under the first pass's can find what the first pass dropped: no
    text counts as known clean then."""
    _, cfg = pii_history
    cfg.pii.residual_score_threshold = cfg.pii.score_threshold - 0.2
    store = store_for(cfg)
    scan_window(cfg, store, hasher=hasher, **QUIET)
    redact_window(cfg, store, hasher=hasher, **QUIET)
    r = residual_scan(cfg, store, hasher=hasher, **QUIET)
    assert r.texts_known_clean == 0 and r.texts_rescanned > 0
