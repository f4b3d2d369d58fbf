"""The residual scan: the redacted text checked again, by our scanner and by an independent
detector (Presidio's predefined recognizers, residual_check.py).

What it finds is what a GenAI team would still receive: a name the model only recognises
once the surrounding PII is gone, a value the redaction missed, a value of a shape our
recognizers do not know (or were configured not to look for). Placeholders themselves
(`<EMAIL_1f3a9c2b>`) are not findings. Incremental like the main scan: a ticket is checked
again only when its redacted text changed.

Our scanner reruns only on texts the redaction changed or where the first pass found something.
A text in which the first pass found nothing is copied into the redacted table as it was, and
the same scanner on the same text at the same or a higher threshold can only find nothing
again: rerunning it there (language detection, patterns, NER: half the stage's time at 1M
tickets) confirmed the first pass and checked nothing. The independent detector still reads
every text, so a value our recognizers miss is found wherever it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import duckdb
import polars as pl

from ticket_audit.config import AuditConfig
from ticket_audit.pii.hashing import KeyedHasher
from ticket_audit.pii.masked import MaskedPlaceholders
from ticket_audit.pii.ner_store import NerStore
from ticket_audit.pii.residual_check import presidio_findings
from ticket_audit.pii.runtime import get_scanner
from ticket_audit.pii.scan import Scanner, resolve_overlaps, strip_placeholders
from ticket_audit.pii.scan_tickets import (
    TEXTS_PER_TICKET,
    Log,
    Store,
    finding_row,
    findings_frame,
    ner_store,
    scan_items,
)
from ticket_audit.pii.tables import FINDING_COLUMNS, ensure_pii_tables
from ticket_audit.pii.ticket_texts import (
    TextItem,
    flatten,
    query_polars,
    read_texts,
    text_fields,
)
from ticket_audit.store import release_memory, transaction

BATCH_TICKETS = 50_000
# Our scanner's findings and placeholders for a text it did not read again.
_NOTHING: tuple[list, list] = ([], [])


@dataclass
class ResidualResult:
    tickets_checked: int = 0
    # Texts our scanner read again; the others the first pass had found clean, unchanged.
    texts_rescanned: int = 0
    texts_known_clean: int = 0
    findings: int = 0
    tickets_with_findings: int = 0
    by_entity: dict[str, int] = field(default_factory=dict)
    total_findings: int = 0
    total_tickets: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def residual_scan(
    cfg: AuditConfig, store: Store, *, log: Log = print, hasher: KeyedHasher | None = None
) -> ResidualResult:
    hasher = hasher or KeyedHasher.from_env(cfg.audit.hash_key_env)
    result = ResidualResult()
    with store() as con:
        ensure_pii_tables(con)
        todo = query_polars(
            con,
            """SELECT s.source, s.ticket_id, s.redacted_hash,
                   s.redacted_hash = s.text_hash AS findings_current
            FROM audit.pii_scan_state s
            SEMI JOIN audit.redacted_tickets r ON r.source = s.source AND r.ticket_id = s.ticket_id
            WHERE s.redacted_hash IS NOT NULL
              AND s.residual_hash IS DISTINCT FROM s.redacted_hash""",
        )

    rows: list[tuple] = []
    ner = ner_store(cfg, store, hasher)
    scanner = get_scanner(cfg.pii) if todo.height else None
    if scanner is not None:
        scanner.prepare(todo.height * TEXTS_PER_TICKET)
    # A batch of tickets at a time: memory is that of a batch, not of the whole history.
    for first in range(0, todo.height, BATCH_TICKETS):
        batch = todo.slice(first, BATCH_TICKETS)
        if todo.height > BATCH_TICKETS:
            log(
                f"PII residual scan: tickets {first + 1:,}-{first + batch.height:,} of {todo.height:,}"
            )
        rows += _batch_rows(cfg, store, batch, scanner, ner, hasher, result, log)
        release_memory()  # the batch's texts are gone before the next batch is read
    frame = findings_frame(rows)
    result.tickets_checked = todo.height
    result.findings = frame.height
    result.tickets_with_findings = frame.select("source", "ticket_id").unique().height
    result.by_entity = dict(sorted(Counter(frame["entity_type"].to_list()).items()))
    _store(store, todo, frame, ner, result)
    log(
        f"PII residual scan: {result.tickets_checked:,} redacted tickets checked "
        f"({result.texts_rescanned:,} texts by our scanner again, "
        f"{result.texts_known_clean:,} unchanged and clean in the first pass; all by the "
        f"independent detector), {result.findings:,} residual findings; "
        f"{result.total_findings:,} in the whole redacted dataset"
    )
    return result


def _batch_rows(
    cfg: AuditConfig,
    store: Store,
    batch: pl.DataFrame,
    scanner: Scanner,
    ner: NerStore,
    hasher: KeyedHasher,
    result: ResidualResult,
    log: Log,
) -> list[tuple]:
    """The residual finding rows of one batch of tickets: our scanner on the texts to read
    again, the independent detector on every text; counts added to `result`."""
    # The first pass's findings hold for the redacted text when it redacted the text it
    # scanned; a lower residual threshold could find what the first pass dropped.
    reuse = cfg.pii.residual_threshold >= cfg.pii.score_threshold
    fields = text_fields(cfg)
    with store() as con:
        tickets, messages = read_texts(con, batch, fields, redacted=True)
        clean = _known_clean(con, batch) if reuse else None
    items = flatten(tickets, messages, fields)
    # Only the texts to read again go to the scanner (a batch holds half a million labels
    # and messages; most were found clean).
    rescan = [i for i, it in enumerate(items) if it.text and (clean is None or not clean(it))]
    result.texts_rescanned += len(rescan)
    result.texts_known_clean += sum(1 for it in items if it.text) - len(rescan)
    scanned = scan_items(
        scanner,
        [items[i] for i in rescan],
        threshold=cfg.pii.residual_threshold,
        progress=log,
        stored=ner,
    )
    ours: dict[int, tuple[list, list]] = dict(
        zip(rescan, zip(scanned.findings, scanned.masked, strict=True), strict=True)
    )
    independent: dict[str | None, list] = {}
    rows: list[tuple] = []
    for i, it in enumerate(items):
        fs, held = ours.get(i, _NOTHING)
        # The independent pass (Presidio's predefined recognizers), then one entity per
        # character as in the first pass.
        extra = independent.get(it.text)
        if extra is None:
            extra = independent[it.text] = presidio_findings(it.text)
        if extra:
            if i not in ours:  # not read again: its placeholders are found here
                held = scanner.masked.find(it.text)
            extra = MaskedPlaceholders.drop_overlapping(scanner.allow.filter(it.text, extra), held)
            fs = resolve_overlaps(fs + extra)
        for f in strip_placeholders(it.text or "", fs) if fs else ():
            rows.append(finding_row(it, f, hasher))
    return rows


def _store(
    store: Store, todo: pl.DataFrame, frame: pl.DataFrame, ner: NerStore, result: ResidualResult
) -> None:
    """Replace the checked tickets' residual findings (and drop those of tickets no longer
    redacted), remember what was checked, and count the whole redacted dataset's."""
    with store() as con:
        ensure_pii_tables(con)
        cols = ", ".join(f'"{c}"' for c in FINDING_COLUMNS)
        todo_keys = todo.select("source", "ticket_id", "redacted_hash").to_arrow()
        with transaction(con, _todo=todo_keys, _residual=frame.to_arrow()):
            con.execute(
                """DELETE FROM audit.pii_residual f WHERE EXISTS (
                    SELECT 1 FROM _todo k WHERE k.source = f.source AND k.ticket_id = f.ticket_id)
                OR NOT EXISTS (SELECT 1 FROM audit.redacted_tickets r
                               WHERE r.source = f.source AND r.ticket_id = f.ticket_id)"""
            )
            con.execute(f"INSERT INTO audit.pii_residual ({cols}) SELECT {cols} FROM _residual")
            ner.flush(con)
            con.execute(
                """UPDATE audit.pii_scan_state s SET residual_hash = k.redacted_hash
                FROM _todo k WHERE s.source = k.source AND s.ticket_id = k.ticket_id"""
            )
        result.total_findings, result.total_tickets = con.execute(
            "SELECT count(*), count(DISTINCT (source, ticket_id)) FROM audit.pii_residual"
        ).fetchone()


def _known_clean(con: duckdb.DuckDBPyConnection, batch: pl.DataFrame) -> Callable[[TextItem], bool]:
    """Whether a text of `batch` is one the first pass scanned and found nothing in: the
    ticket's redacted text is the redaction of the text its findings are of, and the text
    (ticket field, tag or message) has no finding, so the redaction left it as it was."""
    current = batch.filter(pl.col("findings_current")).select("source", "ticket_id")
    con.register("_current", current.to_arrow())
    try:
        found = con.execute(
            "SELECT DISTINCT f.source, f.ticket_id, f.field FROM audit.pii_findings f "
            "SEMI JOIN _current k ON f.source = k.source AND f.ticket_id = k.ticket_id"
        ).fetchall()
    finally:
        con.unregister("_current")
    current_keys = set(current.iter_rows())
    with_findings = set(found)

    def clean(it: TextItem) -> bool:
        return (it.source, it.ticket_id) in current_keys and (
            it.source,
            it.ticket_id,
            it.field,
        ) not in with_findings

    return clean
