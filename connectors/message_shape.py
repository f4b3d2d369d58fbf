"""Shapes of message exports that are not one row per message of a known ticket.

- `thread_by`: threads linked by reply ids (social media): a message belongs to the ticket
  named after the first message of its reply chain.
- `group_rows_by` / `order_by`: one row per utterance or line; the rows of a group become one
  message, their texts joined in order.
- no `seq` column: messages are numbered per ticket by time, then `order_by`, then file order.

Each step is SQL over the staged rows; the rows of a message that cannot load are quarantined
together, each with the reason, so rows read = rows loaded + rows quarantined still holds.
"""

from __future__ import annotations

import duckdb

from connectors.mapping import q
from ticket_audit.config.mapping import MessagesFile
from ticket_audit.model import MESSAGE_COLUMNS

# Longest reply chain followed; a longer one (or a cycle) stops at this depth.
MAX_THREAD_DEPTH = 500
THREAD_COLUMN = "_thread_root"


def _cell(column: str) -> str:
    return f"NULLIF(trim(CAST({q(column)} AS VARCHAR)), '')"


def thread_stage(con: duckdb.DuckDBPyConnection, spec: MessagesFile) -> str:
    """A view over `stage` with each row's thread root id as `THREAD_COLUMN`; its name."""
    assert spec.thread_by is not None
    node, parent = _cell(spec.thread_by.id), _cell(spec.thread_by.in_reply_to)
    row_node = f"NULLIF(trim(CAST(s.{q(spec.thread_by.id)} AS VARCHAR)), '')"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE thread_roots AS
        WITH RECURSIVE nodes AS (
            SELECT DISTINCT ON (id) id, parent FROM (
                SELECT {node} AS id, {parent} AS parent, _row_number FROM stage
            ) WHERE id IS NOT NULL ORDER BY id, _row_number
        ),
        chain(id, node, parent, depth) AS (
            SELECT id, id, parent, 0 FROM nodes
            UNION ALL
            SELECT c.id, n.id, n.parent, c.depth + 1
            FROM chain c JOIN nodes n ON n.id = c.parent
            WHERE c.depth < {MAX_THREAD_DEPTH}
        )
        SELECT id, arg_max(node, depth) AS root FROM chain GROUP BY id"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW stage_threaded AS
        SELECT s.*, r.root AS {THREAD_COLUMN} FROM stage s
        LEFT JOIN thread_roots r ON r.id = {row_node}"""
    )
    return "stage_threaded"


def order_items(spec: MessagesFile) -> tuple[str, list[str]]:
    """Select items carried for ordering, and the ORDER BY terms over them."""
    items, terms = [], []
    for i, c in enumerate(spec.order_columns()):
        items += [f"try_cast({_cell(c)} AS DOUBLE) AS _on{i}", f"{_cell(c)} AS _ot{i}"]
        terms += [f"_on{i} NULLS LAST", f"_ot{i} NULLS LAST"]
    return ", ".join(items), [*terms, "_row_number"]


def group_item(spec: MessagesFile) -> str:
    if not spec.group_rows_by:
        return "[CAST(_row_number AS VARCHAR)] AS _group"
    return f"[{', '.join(_cell(c) for c in spec.group_rows_by)}]::VARCHAR[] AS _group"


def group_messages(con: duckdb.DuckDBPyConnection, spec: MessagesFile, order: list[str]) -> None:
    """`message_rows` (one row per staged row) -> `mapped_messages` (one row per message).

    A message takes its first row's fields (in `order_by` order) and every row's text, joined
    by new lines; a reason on any row holds the whole message back."""
    by = ", ".join(order)
    fields = [
        f"string_agg(body, chr(10) ORDER BY {by}) AS body"
        if c == "body"
        else f"first({c} ORDER BY {by}) AS {c}"
        for c in MESSAGE_COLUMNS
    ]
    carried = [f"first({t.split()[0]} ORDER BY {by}) AS {t.split()[0]}" for t in order[:-1]]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE mapped_messages AS
        SELECT min(_row_number) AS _row_number, _group, {", ".join(fields + carried)},
            first('row ' || _row_number || ': ' || _reason ORDER BY _row_number)
                FILTER (WHERE _reason IS NOT NULL) AS _reason,
            count(*) AS _rows
        FROM message_rows GROUP BY _group"""
    )


def number_messages(con: duckdb.DuckDBPyConnection, order: list[str]) -> None:
    """`seq` for exports without one: per ticket by time, then `order_by`, then file order."""
    con.execute(
        f"""UPDATE mapped_messages m SET seq = s.k FROM (
            SELECT _group, row_number() OVER (
                PARTITION BY ticket_id ORDER BY created_at NULLS LAST, {", ".join(order)}) - 1 AS k
            FROM mapped_messages WHERE _reason IS NULL) s
        WHERE m._group = s._group"""
    )
