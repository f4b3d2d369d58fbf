"""PostgreSQL sources, read through ADBC (adbc-driver-postgresql: libpq + COPY, Arrow out)."""

from __future__ import annotations

import contextlib
from urllib.parse import quote, urlencode

import adbc_driver_manager
import adbc_driver_postgresql.dbapi as adbc_pg
import duckdb
import pyarrow as pa

from connectors.credentials import scrub, secret_from_env
from connectors.errors import IngestError, SourceUnavailableError
from connectors.load_report import OriginReport, Progress
from connectors.sql.common import ingest_sql_source
from ticket_audit.config.sources import PostgresSource


def _first_lines(exc: BaseException, *secrets: str | None) -> str:
    # ADBC appends "Query was: ..." (the whole statement, with its id lists): keep the cause.
    text = str(exc).split("Query was:")[0].strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return scrub(" ".join(lines[:3]), *secrets)


class PostgresDriver:
    def __init__(self, source: PostgresSource, label: str) -> None:
        self.label = label
        self._open: list = []
        self.where = f"postgres {source.host}:{source.port}/{source.database}"
        self._password = secret_from_env(label, source.password_env, "database password")
        auth = quote(source.user, safe="")
        if self._password is not None:
            auth += ":" + quote(self._password, safe="")
        params = {
            "connect_timeout": str(source.connect_timeout_s),
            "application_name": "ticket-audit",
            **source.options,
        }
        uri = (
            f"postgresql://{auth}@{source.host}:{source.port}/{quote(source.database, safe='')}"
            f"?{urlencode(params, quote_via=quote)}"
        )
        try:
            # Autocommit: every chunk is its own statement, no transaction idles between them.
            self._conn = adbc_pg.connect(uri, autocommit=True)
        except adbc_driver_manager.Error as exc:
            raise SourceUnavailableError(
                f"{label} ({self.where}): cannot connect: {_first_lines(exc, self._password)}"
            ) from None

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def literal(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def as_text(self, expr: str) -> str:
        return f"CAST({expr} AS text)"

    def order_by(self, cursor: str | None, key: str) -> str:
        return f"{cursor} ASC NULLS FIRST, {key} ASC" if cursor else f"{key} ASC"

    def _error(self, exc: BaseException) -> IngestError:
        return IngestError(
            f"{self.label} ({self.where}): query failed: {_first_lines(exc, self._password)}"
        )

    def columns(self, sql: str) -> list[str]:
        return self.fetch(sql).column_names

    def fetch(self, sql: str) -> pa.Table:
        try:
            with self._conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetch_arrow_table()
        except adbc_driver_manager.Error as exc:
            raise self._error(exc) from None

    def stream(self, sql: str) -> pa.RecordBatchReader:
        try:
            # The reader lives as long as its cursor: keep it until close().
            cur = self._conn.cursor()
            self._open.append(cur)
            cur.execute(sql)
            return cur.fetch_record_batch()
        except adbc_driver_manager.Error as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        for cur in self._open:
            with contextlib.suppress(adbc_driver_manager.Error):
                cur.close()
        with contextlib.suppress(adbc_driver_manager.Error):
            self._conn.close()


def ingest(
    con: duckdb.DuckDBPyConnection,
    cfg,
    source: PostgresSource,
    progress: Progress,
    force: bool = False,
) -> list[OriginReport]:
    label = f"source {source.name!r}"
    return ingest_sql_source(
        con, cfg, source, lambda: PostgresDriver(source, label), progress, force
    )
