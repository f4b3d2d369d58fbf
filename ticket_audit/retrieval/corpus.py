"""What the retrieval probe indexes: ticket text, label, and whether an agent replied.

The probe reads whichever tables it is given; the pipeline passes the redacted tables so the
index never holds raw PII.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import duckdb
import polars as pl

from ticket_audit.sqlutil import checked_table, table_exists


@dataclass(frozen=True)
class Corpus:
    """Rows in a fixed order; `row` is the position used as the document id in the index."""

    frame: pl.DataFrame  # ticket_id, text, category, has_reply, labelled

    def __len__(self) -> int:
        return self.frame.height


def load_corpus(
    con: duckdb.DuckDBPyConnection,
    tickets_table: str,
    messages_table: str | None = None,
    categories: list[str] | None = None,
) -> Corpus:
    tickets_table = checked_table(tickets_table)
    text = "nullif(trim(concat_ws(' ', subject, description)), '')"
    first_message = ""
    if messages_table and table_exists(con, messages_table):
        messages = checked_table(messages_table)
        # A public agent message is what a reply assistant would learn to draft from.
        replied = f"""ticket_id IN (SELECT ticket_id FROM {messages} m
                      WHERE m.author_role = 'agent' AND coalesce(m.is_public, true)
                        AND m.source = t.source)"""
        # A conversation-only export (no subject or description) is queried with what the
        # customer wrote first.
        first_message = f"""LEFT JOIN (SELECT source, ticket_id, arg_min(body, seq) AS first_body
                FROM {messages} WHERE author_role = 'customer' GROUP BY ALL) f
            USING (source, ticket_id)"""
        text = f"coalesce({text}, nullif(trim(f.first_body), ''))"
    else:
        replied = "first_response_at IS NOT NULL"
    frame = con.sql(
        f"""SELECT ticket_id,
                   coalesce({text}, '') AS text,
                   nullif(trim(category), '') AS category,
                   {replied} AS has_reply
            FROM {tickets_table} t {first_message}
            WHERE deleted_at IS NULL
            ORDER BY source, ticket_id"""
    ).pl()
    valid = pl.col("category").is_in(categories) if categories else pl.col("category").is_not_null()
    return Corpus(frame.with_columns(labelled=valid.fill_null(False)))


def split_holdout(
    corpus: Corpus, share: float, max_queries: int, seed: int
) -> tuple[list[int], list[int]]:
    """(indexed rows, query rows): a seeded sample of tickets with text is held out as queries."""
    n = len(corpus)
    candidates = [i for i, t in enumerate(corpus.frame["text"].to_list()) if t]
    k = min(max_queries, max(1, round(share * n)), max(0, len(candidates) - 1))
    queries = sorted(random.Random(seed).sample(candidates, k)) if k else []
    held = set(queries)
    return [i for i in range(n) if i not in held], queries
