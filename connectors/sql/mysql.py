"""MySQL and MariaDB sources, read through connectorx (Rust, Arrow out, ships in wheels).

PyMySQL opens a short connection first: it fails fast with the server's own message on a
wrong password or an unreachable host, where connectorx's pool would keep retrying for
half a minute before giving up with "timed out waiting for connection".
"""

from __future__ import annotations

from urllib.parse import quote

import connectorx as cx
import duckdb
import pyarrow as pa
import pymysql

from connectors.credentials import scrub, secret_from_env
from connectors.errors import IngestError, SourceUnavailableError
from connectors.load_report import OriginReport, Progress
from connectors.sql.common import ingest_sql_source
from ticket_audit.config.sources import MySqlSource

# TIMESTAMP columns come out in the session zone; UTC keeps them comparable across servers.
SESSION_SETUP = "SET time_zone = '+00:00'"


class MySqlDriver:
    def __init__(self, source: MySqlSource, label: str) -> None:
        self.label = label
        self.where = f"mysql {source.host}:{source.port}/{source.database}"
        self._password = secret_from_env(label, source.password_env, "database password")
        self._connect_args = dict(
            host=source.host,
            port=source.port,
            user=source.user,
            password=self._password or "",
            database=source.database,
            connect_timeout=source.connect_timeout_s,
            charset="utf8mb4",
        )
        try:
            pymysql.connect(**self._connect_args).close()
        except pymysql.err.MySQLError as exc:
            raise SourceUnavailableError(
                f"{label} ({self.where}): cannot connect: {self._reason(exc)}"
            ) from None
        auth = quote(source.user, safe="") + ":" + quote(self._password or "", safe="")
        options = "&".join(f"{quote(k)}={quote(v)}" for k, v in source.options.items())
        self._url = (
            f"mysql://{auth}@{source.host}:{source.port}/{quote(source.database, safe='')}"
            + (f"?{options}" if options else "")
        )

    def _reason(self, exc: BaseException) -> str:
        args = getattr(exc, "args", ())
        if len(args) >= 2 and isinstance(args[0], int):
            text = f"{args[1]} (MySQL error {args[0]})"
        else:
            text = str(exc)
        return scrub(text.split("Query was:")[0].strip(), self._password)

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def literal(self, value: str) -> str:
        # Backslash escapes are on by default in MySQL string literals.
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"

    def as_text(self, expr: str) -> str:
        return f"CAST({expr} AS CHAR)"

    def order_by(self, cursor: str | None, key: str) -> str:
        # ASC puts NULLs first in MySQL and MariaDB, as the keyset predicate expects.
        return f"{cursor} ASC, {key} ASC" if cursor else f"{key} ASC"

    def columns(self, sql: str) -> list[str]:
        try:
            conn = pymysql.connect(**self._connect_args)
            try:
                with conn.cursor() as cur:
                    cur.execute(sql)
                    return [d[0] for d in cur.description or ()]
            finally:
                conn.close()
        except pymysql.err.OperationalError as exc:
            if exc.args and exc.args[0] in (2003, 2006, 2013, 1045):
                raise SourceUnavailableError(
                    f"{self.label} ({self.where}): {self._reason(exc)}"
                ) from None
            raise IngestError(
                f"{self.label} ({self.where}): query failed: {self._reason(exc)}"
            ) from None
        except pymysql.err.MySQLError as exc:
            raise IngestError(
                f"{self.label} ({self.where}): query failed: {self._reason(exc)}"
            ) from None

    def _read(self, sql: str, **kwargs):
        try:
            return cx.read_sql(self._url, sql, pre_execution_query=SESSION_SETUP, **kwargs)
        except (RuntimeError, ValueError) as exc:
            message = self._reason(exc)
            if "connect" in message.lower():
                raise SourceUnavailableError(f"{self.label} ({self.where}): {message}") from None
            raise IngestError(f"{self.label} ({self.where}): query failed: {message}") from None

    def fetch(self, sql: str) -> pa.Table:
        return self._read(sql, return_type="arrow")

    def stream(self, sql: str) -> pa.RecordBatchReader:
        return self._read(sql, return_type="arrow_stream", batch_size=50_000)

    def close(self) -> None:
        pass


def ingest(
    con: duckdb.DuckDBPyConnection,
    cfg,
    source: MySqlSource,
    progress: Progress,
    force: bool = False,
) -> list[OriginReport]:
    label = f"source {source.name!r}"
    return ingest_sql_source(con, cfg, source, lambda: MySqlDriver(source, label), progress, force)
