"""Scan the tickets of a partition window and store the findings (incremental).

Read (fingerprints, then only the texts of new or changed tickets), close the database,
scan, then reopen and replace those tickets' findings and state in one transaction.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import duckdb
import polars as pl

from ticket_audit.config import AuditConfig
from ticket_audit.pii.hashing import KeyedHasher
from ticket_audit.pii.masked import MaskedSpan
from ticket_audit.pii.ner_store import NerStore
from ticket_audit.pii.recognizers import Finding
from ticket_audit.pii.runtime import get_scanner
from ticket_audit.pii.scan import Scanner
from ticket_audit.pii.tables import FINDING_COLUMNS, ensure_pii_tables
from ticket_audit.pii.ticket_texts import (
    TextItem,
    WindowQuery,
    flatten,
    is_label,
    keys_frame,
    read_texts,
    settings_fingerprint,
    text_fields,
    window_fingerprints,
)
from ticket_audit.store import transaction

# A lower bound on texts per ticket (subject, description, one message) for sizing a scan
# before its texts are read.
TEXTS_PER_TICKET = 3
Store = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
Log = Callable[[str], None]


@dataclass
class ScanResult:
    tickets_in_window: int = 0
    tickets_scanned: int = 0
    tickets_unchanged: int = 0
    tickets_removed: int = 0
    texts_scanned: int = 0
    findings_written: int = 0
    tickets_with_findings: int = 0
    by_entity: dict[str, int] = field(default_factory=dict)
    scan_seconds: float = 0.0
    tickets_per_second: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def combine(cls, parts: list[ScanResult]) -> ScanResult:
        """One result for windows scanned one after another."""
        total = cls()
        by_entity: Counter = Counter()
        for p in parts:
            for name in (
                "tickets_in_window",
                "tickets_scanned",
                "tickets_unchanged",
                "tickets_removed",
                "texts_scanned",
                "findings_written",
                "tickets_with_findings",
            ):
                setattr(total, name, getattr(total, name) + getattr(p, name))
            by_entity.update(p.by_entity)
            total.scan_seconds += p.scan_seconds
        total.by_entity = dict(sorted(by_entity.items()))
        total.scan_seconds = round(total.scan_seconds, 3)
        total.tickets_per_second = round(total.tickets_scanned / max(total.scan_seconds, 1e-9), 1)
        return total


@dataclass
class ItemScan:
    """Findings per text item, and for the free texts their language and placeholders."""

    findings: list[list[Finding]]
    languages: list[str | None]
    masked: list[list[MaskedSpan]]


def finding_row(it: TextItem, f: Finding, hasher: KeyedHasher) -> tuple:
    """One row of `FINDING_COLUMNS` (the first pass and the residual scan write the same
    layout): the value itself never leaves, only its keyed hash."""
    return (
        it.source,
        it.ticket_id,
        it.field,
        f.entity_type,
        f.start,
        f.end,
        round(f.score, 4),
        f.recognizer,
        hasher.value_hash(f.entity_type, it.text[f.start : f.end]),
        it.created_month,
    )


def scan_items(scanner: Scanner, items: list[TextItem], **kwargs) -> ItemScan:
    """Free texts through the whole scanner (language routing, NER), labels and tags through
    the pattern recognizers only; results in item order."""
    texts = [it.text if not is_label(it.field) else None for it in items]
    labels = [it.text if is_label(it.field) else None for it in items]
    found = scanner.scan(texts, **kwargs)
    languages, masked = scanner.text_languages, scanner.text_masked
    kwargs.pop("stored", None)
    found_labels = scanner.scan(labels, patterns_only=True, **kwargs)
    masked = [m or lm for m, lm in zip(masked, scanner.text_masked, strict=True)]
    merged = [a or b for a, b in zip(found, found_labels, strict=True)]
    return ItemScan(merged, languages, masked)


def text_facts(items: list[TextItem], scan: ItemScan) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(languages per ticket, placeholders per text and style) for audit.pii_languages and
    audit.pii_masked."""
    langs: Counter = Counter()
    masked: Counter = Counter()
    months = {}
    for it, lang, held in zip(items, scan.languages, scan.masked, strict=True):
        months[(it.source, it.ticket_id)] = it.created_month
        if lang is not None:
            langs[(it.source, it.ticket_id, lang)] += 1
        for style, _, _ in held:
            masked[(it.source, it.ticket_id, it.field, style)] += 1
    lang_frame = pl.DataFrame(
        [(s, t, lang, n, months[(s, t)]) for (s, t, lang), n in langs.items()],
        schema={
            "source": pl.Utf8,
            "ticket_id": pl.Utf8,
            "language": pl.Utf8,
            "texts": pl.Int32,
            "created_month": pl.Date,
        },
        orient="row",
    )
    masked_frame = pl.DataFrame(
        [(s, t, f, st, n, months[(s, t)]) for (s, t, f, st), n in masked.items()],
        schema={
            "source": pl.Utf8,
            "ticket_id": pl.Utf8,
            "field": pl.Utf8,
            "style": pl.Utf8,
            "occurrences": pl.Int32,
            "created_month": pl.Date,
        },
        orient="row",
    )
    return lang_frame, masked_frame


def ner_store(cfg: AuditConfig, store: Store, hasher: KeyedHasher) -> NerStore:
    """NER spans kept across audits, for the settings that produce them."""
    return NerStore(store, hasher.text_salt("ner-spans"), settings_fingerprint(cfg.pii))


def scan_salt(cfg: AuditConfig, hasher: KeyedHasher) -> str:
    return hasher.text_salt("pii-scan:" + settings_fingerprint(cfg.pii))


def findings_frame(rows: list[tuple]) -> pl.DataFrame:
    schema = {
        "source": pl.Utf8,
        "ticket_id": pl.Utf8,
        "field": pl.Utf8,
        "entity_type": pl.Utf8,
        "start": pl.Int32,
        "end": pl.Int32,
        "score": pl.Float64,
        "recognizer": pl.Utf8,
        "value_hash": pl.Utf8,
        "created_month": pl.Date,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def scan_window(
    cfg: AuditConfig,
    store: Store,
    window: WindowQuery | None = None,
    *,
    log: Log = print,
    hasher: KeyedHasher | None = None,
) -> ScanResult:
    window = window or WindowQuery()
    hasher = hasher or KeyedHasher.from_env(cfg.audit.hash_key_env)
    fields = text_fields(cfg)
    result = ScanResult()

    with store() as con:
        ensure_pii_tables(con)
        fps, changed, removed, tickets, messages = _read_window(
            con, cfg, window, fields, scan_salt(cfg, hasher)
        )

    result.tickets_in_window = fps.height
    result.tickets_scanned = changed.height
    result.tickets_unchanged = fps.height - changed.height
    result.tickets_removed = len(removed)
    log(
        f"PII scan: {fps.height:,} tickets in window, {changed.height:,} new or changed, "
        f"{result.tickets_unchanged:,} unchanged (skipped), {len(removed):,} removed"
    )

    scanned = _Scanned()
    if changed.height:
        scanned = _scan(cfg, store, hasher, flatten(tickets, messages, fields), result, log)
        result.tickets_per_second = round(changed.height / max(result.scan_seconds, 1e-9), 1)
    frame = findings_frame(scanned.rows)
    result.findings_written = frame.height
    result.tickets_with_findings = len(scanned.per_ticket)
    result.by_entity = dict(sorted(Counter(frame["entity_type"].to_list()).items()))

    touched = keys_frame(
        [(s, t) for s, t in changed.select("source", "ticket_id").iter_rows()] + list(removed)
    )
    if touched.height == 0:
        return result
    views = {"_touched": touched.to_arrow(), "_findings": frame.to_arrow()}
    if changed.height:
        views["_langs"] = scanned.languages.to_arrow()
        views["_masked"] = scanned.masked.to_arrow()
        views["_state"] = _state_rows(changed, scanned.per_ticket).to_arrow()
    with store() as con:
        ensure_pii_tables(con)
        _write(con, views, scanned.ner)
    log(
        f"PII scan: {result.findings_written:,} findings in {result.tickets_with_findings:,} "
        f"tickets written ({result.tickets_per_second:,.0f} tickets/s)"
    )
    return result


def _read_window(con, cfg: AuditConfig, window: WindowQuery, fields: list[str], salt: str):
    """The window's fingerprints, its new or changed tickets with their texts, and the keys
    of scanned tickets no longer in canonical."""
    in_window = con.execute(
        f"SELECT count(*) FROM canonical.tickets WHERE {window.where}", list(window.params)
    ).fetchall()[0][0]
    # Helpers load their model while the window's fingerprints and texts are read; each
    # ticket brings a subject, a description and its messages: several texts.
    get_scanner(cfg.pii).prepare(in_window * TEXTS_PER_TICKET)
    fps = window_fingerprints(con, window, fields, salt)
    changed = fps.filter(
        pl.col("scanned_hash").is_null() | (pl.col("scanned_hash") != pl.col("text_hash"))
    )
    removed = con.execute(
        f"SELECT s.source, s.ticket_id FROM (SELECT * FROM audit.pii_scan_state "
        f"WHERE {window.where}) s ANTI JOIN canonical.tickets c "
        "ON c.source = s.source AND c.ticket_id = s.ticket_id",
        list(window.params),
    ).fetchall()
    tickets, messages = read_texts(con, changed, fields) if changed.height else (None, None)
    return fps, changed, removed, tickets, messages


@dataclass
class _Scanned:
    """What the scan of a window's changed texts found, as rows to write."""

    rows: list[tuple] = field(default_factory=list)  # findings_frame rows
    per_ticket: Counter = field(default_factory=Counter)  # findings per (source, ticket_id)
    ner: NerStore | None = None  # NER results to keep for later audits
    languages: pl.DataFrame | None = None
    masked: pl.DataFrame | None = None


def _scan(
    cfg: AuditConfig, store: Store, hasher: KeyedHasher, items: list, result: ScanResult, log: Log
) -> _Scanned:
    result.texts_scanned = sum(1 for it in items if it.text)
    scanner = get_scanner(cfg.pii)
    t0 = time.perf_counter()
    out = _Scanned(ner=ner_store(cfg, store, hasher))
    scanned = scan_items(scanner, items, progress=log, stored=out.ner)
    out.languages, out.masked = text_facts(items, scanned)
    if scanner.stats.distinct_segments_stored:
        log(
            f"PII scan: NER results of {scanner.stats.distinct_segments_stored:,} sentences "
            "reused from earlier audits"
        )
    result.scan_seconds = round(time.perf_counter() - t0, 3)
    for it, fs in zip(items, scanned.findings, strict=True):
        for f in fs:
            out.rows.append(finding_row(it, f, hasher))
            out.per_ticket[(it.source, it.ticket_id)] += 1
    return out


def _state_rows(changed: pl.DataFrame, per_ticket: Counter) -> pl.DataFrame:
    """audit.pii_scan_state rows of the tickets just scanned."""
    return changed.select("source", "ticket_id", "created_month", "text_hash").with_columns(
        pl.lit(datetime.now(UTC).replace(tzinfo=None)).alias("scanned_at"),
        pl.struct("source", "ticket_id")
        .map_elements(
            lambda k: per_ticket.get((k["source"], k["ticket_id"]), 0), return_dtype=pl.Int32
        )
        .alias("findings"),
    )


def _write(con, views: dict, ner: NerStore | None) -> None:
    """Replace the touched tickets' findings, languages, placeholders and scan state in one
    transaction (`views`: _touched and _findings, and for scanned tickets _langs, _masked
    and _state)."""
    with transaction(con, **views):
        con.execute(
            "DELETE FROM audit.pii_findings f USING _touched k "
            "WHERE f.source = k.source AND f.ticket_id = k.ticket_id"
        )
        cols = ", ".join(f'"{c}"' for c in FINDING_COLUMNS)
        con.execute(f"INSERT INTO audit.pii_findings ({cols}) SELECT {cols} FROM _findings")
        for table in ("pii_languages", "pii_masked"):
            con.execute(
                f"DELETE FROM audit.{table} f USING _touched k "
                "WHERE f.source = k.source AND f.ticket_id = k.ticket_id"
            )
        if "_state" in views:
            con.execute("INSERT INTO audit.pii_languages BY NAME SELECT * FROM _langs")
            con.execute("INSERT INTO audit.pii_masked BY NAME SELECT * FROM _masked")
        if ner is not None:
            ner.flush(con)
        con.execute(
            "DELETE FROM audit.pii_scan_state s USING _touched k "
            "WHERE s.source = k.source AND s.ticket_id = k.ticket_id"
        )
        if "_state" in views:
            con.execute(
                "INSERT INTO audit.pii_scan_state (source, ticket_id, created_month, "
                "text_hash, scanned_at, findings) SELECT source, ticket_id, created_month, "
                "text_hash, scanned_at, findings FROM _state"
            )
