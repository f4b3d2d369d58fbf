"""Read N tickets from PostgreSQL into the canonical tables vs `COPY ... TO STDOUT` of the table.

    python -m bench sql_ingest [--tickets 1000000] [--small 250000] [--keep]

Builds a typed helpdesk table in PostgreSQL (timestamptz, text[], smallint; primary key on the
ticket id and an index on (updated_at, ticket_id), as the incremental reader expects) from
the generated history, then measures in separate processes, in the same run:

- baseline: `COPY <table> TO STDOUT` through psycopg (every row received and dropped) and
  through psql into /dev/null; the faster of the two is the baseline;
- ours: a `postgres` source with `cursor_column: updated_at` loaded by `ingest_config`
  into a fresh DuckDB file (raw zone + canonical tickets, quarantine, cursor, load log);
- the floor: ADBC's Arrow stream of the whole table into one DuckDB table, nothing else
  (what any load into DuckDB costs at least, on this machine);
- ours again on the first `--small` rows of the same table, to show peak RSS does not grow
  with the table (chunks of `ingest.batch_rows`).

Tables are dropped at the end unless --keep (a kept table is reused by the next run).
DuckDB caches the blocks it writes up to `ingest.memory_limit` (1GB by default), so peak RSS
grows with the data until that cap; `--memory-limit 256MB` shows the flat part.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import cached_history, isolated, table
from ticket_audit.generator.writer import TICKET_FIELD_MAP

PG_URI = os.environ.get("TICKET_AUDIT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
PG_CONNINFO = os.environ.get(
    "TICKET_AUDIT_BENCH_PG_CONNINFO", "host=127.0.0.1 port=5432 user=postgres dbname=test"
)

DDL = """CREATE TABLE {name} (
    ticket_id text PRIMARY KEY,
    created_at timestamptz, updated_at timestamptz,
    first_response_at timestamptz, resolved_at timestamptz,
    status text, channel text, priority text, category text, subcategory text, product text,
    tags text[], team text, assignee text, customer_name text, customer_email text,
    language text, csat smallint, subject text, description text)"""

# Timestamps the generator writes; planted unparseable ones become NULL (quarantined later
# as "created_at: missing", as a database that rejected them would leave them).
_TS = "try_strptime({c}, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%SZ'])"
TYPED_SELECT = f"""SELECT ticket_id,
    timezone('UTC', {_TS.format(c="created_at")}) AS created_at,
    timezone('UTC', {_TS.format(c="updated_at")}) AS updated_at,
    timezone('UTC', {_TS.format(c="first_response_at")}) AS first_response_at,
    timezone('UTC', {_TS.format(c="resolved_at")}) AS resolved_at,
    status, channel, priority, category, subcategory, product,
    CASE WHEN tags IS NULL OR tags = '' THEN []::VARCHAR[] ELSE string_split(tags, ';') END AS tags,
    team, assignee, customer_name, customer_email, language,
    CAST(csat AS SMALLINT) AS csat, subject, description
FROM read_csv('{{path}}', all_varchar = true, header = true)"""

MAPPING = {
    "fields": dict(TICKET_FIELD_MAP),
    "pseudonymize": ["customer_id", "assignee_id"],
}


def _pg():
    import psycopg

    return psycopg.connect(PG_CONNINFO, autocommit=True)


def _rows(name: str) -> int | None:
    with _pg() as conn:
        exists = conn.execute("SELECT to_regclass(%s)", [name]).fetchone()[0]
        if exists is None:
            return None
        return conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]


def build_table(name: str, csv_path: Path, tickets: int) -> None:
    """Create `name` with the first `tickets` rows of the CSV (reused when already complete)."""
    if _rows(name) == tickets:
        return
    import adbc_driver_postgresql.dbapi as adbc_pg
    import duckdb

    print(f"building PostgreSQL table {name} ({tickets:,} rows)...", flush=True)
    with _pg() as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(DDL.format(name=name))
    duck = duckdb.connect()
    sql = TYPED_SELECT.replace("{path}", str(csv_path).replace("'", "''")) + f" LIMIT {tickets}"
    reader = duck.sql(sql).to_arrow_reader(100_000)
    with adbc_pg.connect(PG_URI) as conn, conn.cursor() as cur:
        cur.adbc_ingest(name, reader, mode="append")
        conn.commit()
    with _pg() as conn:
        conn.execute(f"CREATE INDEX {name}_cursor ON {name} (updated_at, ticket_id)")
        conn.execute(f"VACUUM ANALYZE {name}")


def copy_to_stdout(name: str) -> tuple[int, int]:
    """(rows, bytes) of `COPY name TO STDOUT` (text format), read and dropped."""
    rows = size = 0
    with _pg() as conn, conn.cursor().copy(f"COPY {name} TO STDOUT") as copy:
        for data in copy:
            rows += 1
            size += len(data)
    return rows, size


def psql_copy(name: str) -> int:
    """`psql -c "COPY name TO STDOUT" > /dev/null` (libpq's C client); returns the row count."""
    import shutil
    import subprocess

    psql = shutil.which("psql")
    if psql is None:
        return -1
    host = dict(p.split("=", 1) for p in PG_CONNINFO.split())
    subprocess.run(
        [
            psql,
            "-X",
            "-q",
            "-h",
            host["host"],
            "-p",
            host.get("port", "5432"),
            "-U",
            host["user"],
            "-d",
            host["dbname"],
            "-c",
            f"COPY {name} TO STDOUT",
        ],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return _rows(name) or 0


def duckdb_floor(name: str, db_path: str) -> int:
    """The least any load into DuckDB does: ADBC's Arrow stream of the whole table written
    into one DuckDB table (no chunks, mapping, raw copy or quarantine), checkpointed."""
    import adbc_driver_postgresql.dbapi as adbc_pg
    import duckdb

    con = duckdb.connect(db_path)
    with adbc_pg.connect(PG_URI, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {name}")
        con.register("pg_stream", cur.fetch_record_batch())
        con.execute("CREATE TABLE tickets AS SELECT * FROM pg_stream")
    con.execute("CHECKPOINT")
    (rows,) = con.execute("SELECT count(*) FROM tickets").fetchone()
    con.close()
    return rows


def ticket_audit_load(
    name: str, db_path: str, batch_rows: int | None, memory_limit: str | None
) -> dict:
    from connectors.ingest import ingest_config
    from ticket_audit.config import parse_config

    cfg = parse_config(
        {
            "audit": {"duckdb_path": db_path},
            "ingest": ({"batch_rows": batch_rows} if batch_rows else {})
            | ({"memory_limit": memory_limit} if memory_limit else {}),
            "sources": [
                {
                    "name": "helpdesk_db",
                    "kind": "postgres",
                    "database": "test",
                    "table": name,
                    "cursor_column": "updated_at",
                    "mapping": MAPPING,
                }
            ],
        },
        base_dir=Path(db_path).parent,
    )
    return ingest_config(cfg, progress=lambda _m: None).totals()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench sql_ingest", description=__doc__)
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--small", type=int, default=250_000)
    ap.add_argument(
        "--batch-rows", type=int, default=None, help="ingest.batch_rows (default: the config's)"
    )
    ap.add_argument(
        "--memory-limit",
        default=None,
        help="ingest.memory_limit for our loads (DuckDB's cache cap; default: the config's 1GB)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL tables")
    args = ap.parse_args(argv)
    os.environ.setdefault("TICKET_AUDIT_HASH_KEY", "bench-key")
    # Smaller runs take the first rows of the cached 1M history instead of generating another.
    hist = cached_history(max(args.tickets, 1_000_000))
    big, small = f"ta_bench_tickets_{args.tickets}", f"ta_bench_tickets_{args.small}"
    t = time.perf_counter()
    build_table(big, hist.tickets_path, args.tickets)
    build_table(small, hist.tickets_path, args.small)
    print(f"tables ready in {time.perf_counter() - t:,.0f} s", flush=True)
    # Imported once here, so the forked measurements time the load, not Python's imports.
    import connectors.ingest  # noqa: F401
    import connectors.sql.postgres  # noqa: F401
    from ticket_audit.config.audit import IngestSection

    batch_rows = args.batch_rows or IngestSection().batch_rows
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="bench_sql_ingest_"))
    try:
        (rows, size), copy_s, copy_mb = isolated(copy_to_stdout, big)
        psql_rows, psql_s, _ = isolated(psql_copy, big)
        floor_rows, floor_s, floor_mb = isolated(duckdb_floor, big, str(work / "floor.duckdb"))
        ours, ours_s, ours_mb = isolated(
            ticket_audit_load, big, str(work / "big.duckdb"), args.batch_rows, args.memory_limit
        )
        db_mb = (work / "big.duckdb").stat().st_size / 1e6
        small_res, small_s, small_mb = isolated(
            ticket_audit_load, small, str(work / "small.duckdb"), args.batch_rows, args.memory_limit
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            with _pg() as conn:
                conn.execute(f"DROP TABLE IF EXISTS {big}")
                conn.execute(f"DROP TABLE IF EXISTS {small}")
    # The stricter of the two COPY clients is the baseline.
    psql_rate = psql_rows / psql_s if psql_rows > 0 else 0.0
    copy_rate = max(rows / copy_s, psql_rate)
    result = [
        [
            "COPY ... TO STDOUT, psycopg",
            rows,
            copy_s,
            rows / copy_s,
            copy_mb,
            rows / copy_s / copy_rate,
        ],
    ]
    if psql_rows > 0:
        result.append(
            [
                "COPY ... TO STDOUT, psql > /dev/null",
                psql_rows,
                psql_s,
                psql_rate,
                "-",
                psql_rate / copy_rate,
            ]
        )
    result += [
        [
            "floor: ADBC stream -> one DuckDB table, nothing else",
            floor_rows,
            floor_s,
            floor_rows / floor_s,
            floor_mb,
            floor_rows / floor_s / copy_rate,
        ],
        [
            "ticket-audit postgres source -> raw + canonical",
            ours["rows_read"],
            ours_s,
            ours["rows_read"] / ours_s,
            ours_mb,
            (ours["rows_read"] / ours_s) / copy_rate,
        ],
        [
            f"same, first {args.small:,} rows",
            small_res["rows_read"],
            small_s,
            small_res["rows_read"] / small_s,
            small_mb,
            (small_res["rows_read"] / small_s) / copy_rate,
        ],
    ]
    print(
        f"\nSQL ingest benchmark: {args.tickets:,} tickets in PostgreSQL "
        f"({size / 1e6:,.0f} MB as COPY text), chunks of {batch_rows:,} rows, "
        f"ingest.memory_limit {args.memory_limit or '1GB (default)'}; "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    print(table(["read", "rows", "seconds", "rows/s", "peak RSS MB", "speed vs COPY"], result))
    print(
        f"\nloaded {ours['rows_loaded']:,}, quarantined {ours['rows_quarantined']:,}; "
        f"DuckDB file {db_mb:,.0f} MB"
    )
    print("speed vs COPY: rows/s over the faster COPY client's rows/s (the baseline = 1.00)")
    print("goal: speed vs COPY >= 0.50; peak RSS flat between the two table sizes")
    print(
        "floor: the cheapest possible write of the same rows into DuckDB; no load that also "
        "maps, quarantines and keeps a raw copy can be faster"
    )
    print(
        "peak RSS = DuckDB's block cache (grows with the data up to ingest.memory_limit) + "
        "the chunks in flight (bounded by ingest.batch_rows)"
    )
    return 0
