"""NER results kept across audits: a sentence an earlier audit ran through the model is not
run again.

A weekly export repeats last week's macros, signatures and greetings around new tickets; the
scanner's in-process cache (scan.py) forgets them when the audit ends. Here each sentence's
accepted PERSON and LOCATION spans are stored under a keyed hash of the sentence (never the sentence)
and the fingerprint of the settings (and detection version) that produced them, in `audit.ner_spans`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import duckdb
import pyarrow as pa

Spans = list[tuple[int, int, int]]  # (start, end, kind: index into NER_ENTITIES)
Store = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]

DDL = """CREATE TABLE IF NOT EXISTS audit.ner_spans (
    settings VARCHAR NOT NULL, sentence_key BLOB NOT NULL, spans INTEGER[] NOT NULL)"""


class NerStore:
    """Look up and remember NER spans per sentence; `flush` writes what was remembered."""

    def __init__(self, store: Store, salt: str, settings: str) -> None:
        self._store = store
        # A secret (from the audit's hash key) keys the sentence hashes: without it nobody
        # can test whether a guessed sentence was in the tickets.
        self._key = hashlib.blake2b(salt.encode(), digest_size=32).digest()
        self._settings = settings
        self._pending: dict[bytes, Spans] = {}

    def _keys(self, sentences: Sequence[str]) -> list[bytes]:
        key = self._key
        return [
            hashlib.blake2b(s.encode("utf-8", "surrogatepass"), key=key, digest_size=16).digest()
            for s in sentences
        ]

    def lookup(self, sentences: Sequence[str]) -> dict[str, Spans]:
        """Stored spans of those `sentences` an earlier scan with these settings saw."""
        if not sentences:
            return {}
        keys = self._keys(sentences)
        with self._store() as con:
            con.execute(DDL)
            con.register("_ner_keys", pa.table({"sentence_key": pa.array(keys, pa.binary())}))
            try:
                rows = con.execute(
                    "SELECT n.sentence_key, n.spans FROM audit.ner_spans n "
                    "SEMI JOIN _ner_keys k ON k.sentence_key = n.sentence_key "
                    "WHERE n.settings = ?",
                    [self._settings],
                ).fetchall()
            finally:
                con.unregister("_ner_keys")
        found = {k: [(a[i], a[i + 1], a[i + 2]) for i in range(0, len(a), 3)] for k, a in rows}
        return {s: found[k] for s, k in zip(sentences, keys, strict=True) if k in found}

    def remember(self, sentences: Sequence[str], spans: Sequence[Spans]) -> None:
        for k, sp in zip(self._keys(sentences), spans, strict=True):
            self._pending[k] = sp

    def flush(self, con: duckdb.DuckDBPyConnection) -> int:
        """Write the remembered spans in the caller's transaction; entries of other settings
        go (they can never be read again). Returns the sentences written."""
        con.execute(DDL)
        con.execute("DELETE FROM audit.ner_spans WHERE settings <> ?", [self._settings])
        if not self._pending:
            return 0
        rows = pa.table(
            {
                "sentence_key": pa.array(list(self._pending), pa.binary()),
                "spans": pa.array(
                    [[p for span in sp for p in span] for sp in self._pending.values()],
                    pa.list_(pa.int32()),
                ),
            }
        )
        con.register("_ner_rows", rows)
        try:
            # A sentence another month's scan already wrote is not written twice.
            con.execute(
                "INSERT INTO audit.ner_spans SELECT ?, r.sentence_key, r.spans FROM _ner_rows r "
                "ANTI JOIN (SELECT sentence_key FROM audit.ner_spans WHERE settings = ?) n "
                "ON n.sentence_key = r.sentence_key",
                [self._settings, self._settings],
            )
        finally:
            con.unregister("_ner_rows")
        written = len(self._pending)
        self._pending.clear()
        return written
