"""Each ticket's word ids for the label model, kept between audits.

Tokenising the whole history's subjects and descriptions took most of label consistency on a
re-audit, although a week adds only a few percent of new tickets. `canonical.ticket_word_ids`
keeps every ticket's word ids (`WordIds`, the low 32 bits of each word hash) under the load
that wrote the ticket: a ticket's text only changes when a load writes the row again, with a
new load id, so a stored list is current exactly when its load id is the ticket's. Only new
and reloaded tickets are read as text and tokenised.

The table lives beside the text in `canonical`, not in `audit`: a 32-bit hash of one word can
be found by hashing a dictionary of words and names, so it is as sensitive as the text itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ticket_audit.quality.text_features import (
    WordIds,
    kept_hash_version,
    segment_indices,
    word_hashes,
)

# Bump when the word ids of a text change (tokeniser, hashing, which fields are read).
WORDS_VERSION = 1

DDL = """CREATE TABLE IF NOT EXISTS canonical.ticket_word_ids (
    source VARCHAR, ticket_id VARCHAR, load_id VARCHAR, version VARCHAR, words UINTEGER[])"""


@dataclass
class TicketWords:
    tickets: pl.DataFrame  # source, ticket_id, category, load_id; in canonical.tickets order
    words: WordIds  # one entry per row of `tickets`
    fresh: np.ndarray  # rows tokenised now (nothing current was kept for them)


def ticket_text(subject: pl.Expr, description: pl.Expr) -> pl.Expr:
    """The text the label model reads: subject and description, either may be missing."""
    return pl.concat_str([subject, description], separator="\n", ignore_nulls=True)


def read_ticket_words(con: duckdb.DuckDBPyConnection) -> TicketWords:
    """Every ticket's key, category and word ids: kept ones reused, the others tokenised."""
    con.execute(DDL)
    table = con.sql(
        """SELECT t.source, t.ticket_id, t.category, t.team, t.load_id, w.words,
                  CASE WHEN w.words IS NULL THEN t.subject END AS subject,
                  CASE WHEN w.words IS NULL THEN t.description END AS description
           FROM canonical.tickets t
           LEFT JOIN canonical.ticket_word_ids w
             ON w.source = t.source AND w.ticket_id = t.ticket_id AND w.load_id = t.load_id
            AND w.version = ?
           -- The table's own order, as a plain scan gives it: the model's sums follow it.
           ORDER BY t.rowid""",
        params=[kept_hash_version(WORDS_VERSION)],
    ).to_arrow_table()
    kept = table.column("words").combine_chunks()
    stale = kept.is_null().to_numpy(zero_copy_only=False)
    fresh = np.nonzero(stale)[0]
    text_columns = table.select(["subject", "description"])
    if len(fresh) < table.num_rows:  # a first audit reads every text: no copy then
        text_columns = text_columns.take(pa.array(fresh))
    tickets = pl.from_arrow(table.select(["source", "ticket_id", "category", "team", "load_id"]))
    del table
    texts = (
        pl.from_arrow(text_columns)
        .select(ticket_text(pl.col("subject"), pl.col("description")))
        .to_series()
    )
    del text_columns
    new = word_hashes(texts).ids()
    del texts
    lengths = pc.fill_null(pc.list_value_length(kept), 0).to_numpy().astype(np.int64)
    lengths[fresh] = new.lengths
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    low = np.empty(offsets[-1], np.uint32)
    # Kept and new lists each come in row order: a mask over the words places both.
    from_new = np.repeat(stale, lengths)
    low[from_new] = new.low
    low[~from_new] = kept.flatten().to_numpy(zero_copy_only=False)
    return TicketWords(tickets, WordIds(offsets, low), fresh)


def keep_fresh(con: duckdb.DuckDBPyConnection, found: TicketWords) -> None:
    """Store the word ids tokenised now; drop lists of other versions and of gone tickets.

    Each statement commits on its own: a list missing after a crash is only tokenised again."""
    version = kept_hash_version(WORDS_VERSION)
    rows = found.fresh
    offsets = found.words.offsets
    starts, ends = offsets[rows], offsets[rows + 1]
    lengths = ends - starts
    list_offsets = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lengths, out=list_offsets[1:])
    values = found.words.low[segment_indices(starts, lengths)]
    small = list_offsets[-1] < 2**31
    list_type = pa.ListArray if small else pa.LargeListArray
    words = list_type.from_arrays(
        pa.array(list_offsets.astype(np.int32 if small else np.int64)), pa.array(values)
    )
    keys = found.tickets.select("source", "ticket_id", "load_id")[rows].to_arrow()
    con.register("_fresh_words", keys.append_column("words", words))
    try:
        con.execute(
            """DELETE FROM canonical.ticket_word_ids w WHERE w.version <> ?
               OR EXISTS (SELECT 1 FROM _fresh_words k
                          WHERE k.source = w.source AND k.ticket_id = w.ticket_id)""",
            [version],
        )
        con.execute(
            "INSERT INTO canonical.ticket_word_ids "
            "SELECT source, ticket_id, load_id, ?, words FROM _fresh_words",
            [version],
        )
        # Lists of deleted tickets: only looked for when there are more lists than tickets.
        stored = con.execute("SELECT count(*) FROM canonical.ticket_word_ids").fetchall()[0][0]
        if stored > found.tickets.height:
            con.execute(
                """DELETE FROM canonical.ticket_word_ids w WHERE NOT EXISTS (
                   SELECT 1 FROM canonical.tickets t WHERE t.source = w.source
                   AND t.ticket_id = w.ticket_id AND t.load_id = w.load_id)"""
            )
    finally:
        con.unregister("_fresh_words")
