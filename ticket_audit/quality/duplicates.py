"""Exact and near-duplicate tickets (definitions in docs/quality.md).

- Exact duplicate: same normalised subject + description as an earlier ticket, within the
  duplicate scope (by default the same customer: a resubmitted or re-opened request).
- Near duplicate: word-shingle Jaccard similarity >= `near_duplicate_threshold` with another
  ticket in the same scope. Candidates come from MinHash signatures and LSH banding (the band
  key includes the scope), and every candidate pair is verified with the exact Jaccard of the
  two shingle sets, so the threshold is exact, not estimated.

Tickets linked by either relation form a group; the earliest ticket (created_at, then id)
is the original, every other member is a copy ("exact" if its text equals an earlier
member's, "near" otherwise). A group whose members carry more than one category is a label
conflict.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ticket_audit.config import AuditConfig
from ticket_audit.config.quality import QualitySection
from ticket_audit.quality.tables import ensure_tables, save_stage_stats
from ticket_audit.quality.text_features import _mix, kept_hash_version, ngrams, word_hashes
from ticket_audit.store import open_store, transaction

log = logging.getLogger(__name__)
Progress = Callable[[str], None]

INPUT_COLUMNS = (
    "source",
    "ticket_id",
    "customer_id",
    "created_at",
    "category",
    "subject",
    "description",
)
GROUP_SCHEMA = {
    "source": pl.Utf8,
    "ticket_id": pl.Utf8,
    "group_id": pl.Utf8,
    "kind": pl.Utf8,
    "group_size": pl.Int32,
    "is_first": pl.Boolean,
    "similarity": pl.Float64,
    "distinct_categories": pl.Int32,
    "label_conflict": pl.Boolean,
}


class _Timer:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._t = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._t, 3)
        self._t = now


@dataclass
class Duplicates:
    # One row per ticket that belongs to a group of two or more (GROUP_SCHEMA).
    groups: pl.DataFrame
    stats: dict = field(default_factory=dict)


def _minhash(
    owner: np.ndarray, shingles: np.ndarray, n: int, perms: int, seed: int, block: int = 1 << 16
):
    """(n, perms) uint32 signatures; rows of texts without shingles stay at the max value.

    Each text's shingles must be contiguous in `owner`. Blocks of ~64k shingles (aligned to
    text boundaries) go through every permutation while they sit in the CPU cache.
    """
    has = np.zeros(n, bool)
    starts = (
        np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
        if len(owner)
        else (np.zeros(0, np.int64))
    )
    texts = owner[starts].astype(np.int64)
    has[texts] = True
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=perms, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=perms, dtype=np.uint64)
    sig = np.full((n, perms), np.iinfo(np.uint32).max, dtype=np.uint32)
    # Text index ranges whose shingles add up to about `block`.
    cuts = np.searchsorted(starts, np.arange(0, len(shingles), block), side="left")
    cuts = np.unique(np.concatenate([cuts, [len(texts)]]))
    tmp = np.empty(0, np.uint64)
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        s_lo = starts[lo]
        s_hi = starts[hi] if hi < len(texts) else len(shingles)
        chunk = shingles[s_lo:s_hi]
        local = starts[lo:hi] - s_lo
        if len(tmp) < len(chunk):
            tmp = np.empty(len(chunk), np.uint64)
        t = tmp[: len(chunk)]
        rows = texts[lo:hi]
        for j in range(perms):
            np.multiply(chunk, a[j], out=t)
            t += b[j]
            t >>= np.uint64(32)
            sig[rows, j] = np.minimum.reduceat(t, local)
    return sig, has


def _band_pairs(keys: np.ndarray, idx: np.ndarray, max_bucket: int) -> tuple[np.ndarray, int]:
    """(k, 2) pairs of texts sharing a key, from buckets of 2..max_bucket texts."""
    order = np.argsort(keys, kind="stable")
    k, i = keys[order], idx[order]
    new = np.concatenate(([True], k[1:] != k[:-1]))
    run_start = np.nonzero(new)[0]
    run_len = np.diff(np.concatenate((run_start, [len(k)])))
    skipped = int((run_len > max_bucket).sum())
    pairs = []
    two = run_start[run_len == 2]
    pairs.append(np.stack([i[two], i[two + 1]], axis=1))
    for start, length in zip(
        run_start[(run_len > 2) & (run_len <= max_bucket)],
        run_len[(run_len > 2) & (run_len <= max_bucket)],
        strict=True,
    ):
        members = i[start : start + length]
        aa, bb = np.triu_indices(length, 1)
        pairs.append(np.stack([members[aa], members[bb]], axis=1))
    return np.concatenate(pairs), skipped


def _band_keys(sig: np.ndarray, scope_hash: np.ndarray, bands: int) -> np.ndarray:
    """(n, bands) LSH keys: each band's rows of the signature hashed with the scope, so two
    tickets share a key only within one scope."""
    n, perms = sig.shape
    rows = perms // bands
    out = np.empty((n, bands), np.uint64)
    for band in range(bands):
        key = scope_hash.copy()
        for col in range(band * rows, (band + 1) * rows):
            key *= np.uint64(0x100000001B3)
            key += sig[:, col].astype(np.uint64)
            key = _mix(key)
        out[:, band] = key
    return out


def _candidate_pairs(
    keys: np.ndarray, has: np.ndarray, max_bucket: int
) -> tuple[pl.DataFrame, int]:
    n = len(has)
    idx = np.nonzero(has)[0]
    found, skipped = [], 0
    for band in range(keys.shape[1]):
        pairs, skip = _band_pairs(keys[idx, band], idx, max_bucket)
        found.append(pairs)
        skipped += skip
    if skipped:
        log.warning("near duplicates: %d LSH buckets over %d tickets skipped", skipped, max_bucket)
    both = np.concatenate(found) if found else np.zeros((0, 2), np.int64)
    lo, hi = np.minimum(both[:, 0], both[:, 1]), np.maximum(both[:, 0], both[:, 1])
    uniq = np.unique(lo.astype(np.int64) * n + hi)
    return pl.DataFrame({"a": uniq // n, "b": uniq % n}), skipped


def _jaccard(pairs: pl.DataFrame, owner: np.ndarray, shingles: np.ndarray) -> pl.DataFrame:
    if pairs.is_empty():
        return pairs.with_columns(similarity=pl.lit(None, pl.Float64))
    needed = np.zeros(int(owner.max()) + 1 if len(owner) else 0, bool)
    needed[pairs["a"].to_numpy()] = True
    needed[pairs["b"].to_numpy()] = True
    mask = needed[owner]
    sets = pl.DataFrame({"idx": owner[mask], "sh": shingles[mask]}).unique()
    sizes = sets.group_by("idx").len()
    inter = (
        pairs.join(sets.rename({"idx": "a"}), on="a")
        .join(sets.rename({"idx": "b"}), on=["b", "sh"])
        .group_by("a", "b")
        .len("inter")
    )
    return (
        pairs.join(inter, on=["a", "b"], how="left")
        .join(sizes.rename({"idx": "a", "len": "na"}), on="a")
        .join(sizes.rename({"idx": "b", "len": "nb"}), on="b")
        .with_columns(pl.col("inter").fill_null(0))
        .with_columns(similarity=pl.col("inter") / (pl.col("na") + pl.col("nb") - pl.col("inter")))
        .select("a", "b", "similarity")
    )


@dataclass
class Sketch:
    """What duplicate detection keeps of a ticket's text (no text): enough to find its
    exact copies and its near-copy candidates without reading the text again."""

    exact_key: np.ndarray  # uint64 (n,): same words, same order, same scope; 0 without words
    band_keys: np.ndarray  # uint64 (n, lsh_bands)
    has_shingles: np.ndarray  # bool (n,)


def _texts(tickets: pl.DataFrame) -> pl.Series:
    return tickets.select(
        pl.concat_str([pl.col("subject"), pl.col("description")], separator="\n", ignore_nulls=True)
    ).to_series()


def scope_hashes(tickets: pl.DataFrame, settings: QualitySection) -> np.ndarray:
    scope = (
        tickets["customer_id"]
        if settings.duplicate_scope == "customer"
        else pl.Series([None] * tickets.height, dtype=pl.Utf8)
    ).fill_null("")
    return scope.hash(seed=2).to_numpy()


def shingle_sets(tickets: pl.DataFrame, settings: QualitySection) -> tuple[np.ndarray, np.ndarray]:
    """(owner row, shingle hash) of the tickets' subject + description."""
    return ngrams(word_hashes(_texts(tickets)), settings.shingle_words, short_whole=True)


def sketch_texts(
    tickets: pl.DataFrame, settings: QualitySection, timer: _Timer | None = None
) -> tuple[Sketch, np.ndarray, np.ndarray]:
    """The sketch of each ticket (customer_id, subject, description), and its shingles."""
    timer = timer or _Timer()
    words = word_hashes(_texts(tickets))
    timer("words")
    scope_hash = scope_hashes(tickets, settings)
    exact_key = np.where(
        words.sequence != 0, _mix(words.sequence ^ _mix(scope_hash.copy())), np.uint64(0)
    )
    owner, shingles = ngrams(words, settings.shingle_words, short_whole=True)
    del words
    timer("shingles")
    sig, has = _minhash(owner, shingles, tickets.height, settings.minhash_permutations, seed=17)
    keys = _band_keys(sig, scope_hash, settings.lsh_bands)
    timer("minhash")
    return Sketch(exact_key, keys, has), owner, shingles


ShingleSource = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def find_duplicates(tickets: pl.DataFrame, settings: QualitySection) -> Duplicates:
    """`tickets` has INPUT_COLUMNS; returns the members of every duplicate group."""
    if tickets.height == 0:
        return Duplicates(pl.DataFrame(schema=GROUP_SCHEMA), {"tickets": 0})
    timer = _Timer()
    sketch, owner, shingles = sketch_texts(tickets, settings, timer)
    return group_duplicates(tickets, sketch, lambda _rows: (owner, shingles), settings, timer)


def group_duplicates(
    tickets: pl.DataFrame,
    sketch: Sketch,
    shingles_of: ShingleSource,
    settings: QualitySection,
    timer: _Timer | None = None,
) -> Duplicates:
    """Groups from the tickets' sketches. `tickets` needs no text: `shingles_of(rows)` gives
    (owner row, shingle) of those rows (or more) for verifying the candidate pairs."""
    n = tickets.height
    if n == 0:
        return Duplicates(pl.DataFrame(schema=GROUP_SCHEMA), {"tickets": 0})
    timer = timer or _Timer()
    # Order inside a group: the earliest ticket is the original.
    order = tickets.select(pl.arg_sort_by("created_at", "ticket_id")).to_series().to_numpy()
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    exact_edges = _exact_edges(sketch.exact_key, rank)
    timer("exact")
    pairs, verified, skipped = _near_pairs(sketch, shingles_of, settings, timer)

    edges = pl.concat([exact_edges, verified.select("a", "b")])
    stats = {
        "tickets": n,
        "candidate_pairs": pairs.height,
        "near_pairs": verified.height,
        "exact_edges": exact_edges.height,
        "lsh_buckets_skipped": skipped,
        "timings": timer.laps,
    }
    if edges.is_empty():
        return Duplicates(pl.DataFrame(schema=GROUP_SCHEMA), stats)
    members = _members(tickets, edges, verified, sketch.exact_key, rank)
    timer("groups")
    stats["groups"] = members.filter(pl.col("is_first")).height
    stats["exact_copies"] = members.filter(pl.col("kind") == "exact").height
    stats["near_copies"] = members.filter(pl.col("kind") == "near").height
    return Duplicates(members, stats)


def _exact_edges(exact_key: np.ndarray, rank: np.ndarray) -> pl.DataFrame:
    """Exact groups: every member chained to the group's earliest ticket (rows a, b)."""
    by_key = np.lexsort((rank, exact_key))
    k = exact_key[by_key]
    first_of_run = np.concatenate(([True], k[1:] != k[:-1]))
    run_id = np.cumsum(first_of_run) - 1
    first_idx = by_key[first_of_run][run_id]
    copy = ~first_of_run & (k != 0)
    return pl.DataFrame({"a": first_idx[copy], "b": by_key[copy]})


def _near_pairs(
    sketch: Sketch, shingles_of: ShingleSource, settings: QualitySection, timer: _Timer
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Near groups: MinHash + LSH candidates within the scope, verified by exact Jaccard.
    Returns the candidate pairs, the pairs at or above the threshold with their
    similarity, and the LSH buckets skipped as too large."""
    exact_key = sketch.exact_key
    pairs, skipped = _candidate_pairs(
        sketch.band_keys, sketch.has_shingles, settings.max_bucket_size
    )
    if not pairs.is_empty():
        a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
        same = (exact_key[a] == exact_key[b]) & (exact_key[a] != 0)
        pairs = pairs.filter(~pl.Series(same))
    timer("lsh")
    if pairs.is_empty():
        verified = pairs.with_columns(similarity=pl.lit(None, pl.Float64))
    else:
        rows = np.unique(np.concatenate([pairs["a"].to_numpy(), pairs["b"].to_numpy()]))
        owner, shingles = shingles_of(rows)
        verified = _jaccard(pairs, owner, shingles).filter(
            pl.col("similarity") >= settings.near_duplicate_threshold
        )
        del owner, shingles
    timer("verify")
    return pairs, verified, skipped


def _members(
    tickets: pl.DataFrame,
    edges: pl.DataFrame,
    verified: pl.DataFrame,
    exact_key: np.ndarray,
    rank: np.ndarray,
) -> pl.DataFrame:
    """The members of every group (connected components of the edges), GROUP_SCHEMA."""
    n = tickets.height
    a, b = edges["a"].to_numpy(), edges["b"].to_numpy()
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    best_sim = (
        pl.concat(
            [verified.select(idx="a", s="similarity"), verified.select(idx="b", s="similarity")]
        )
        .group_by("idx")
        .agg(pl.col("s").max())
    )
    in_group = np.nonzero(np.bincount(component)[component] > 1)[0]
    return (
        tickets.select("source", "ticket_id", "category")[in_group]
        .with_columns(
            idx=in_group,
            comp=component[in_group],
            r=rank[in_group],
            exact_key=pl.Series(exact_key[in_group]).replace(0, None),
        )
        .with_columns(size=pl.len().over("comp"))
        .join(best_sim, on="idx", how="left")
        .with_columns(
            is_first=pl.col("r") == pl.col("r").min().over("comp"),
            # An exact copy has an earlier ticket with the same key in its group.
            exact_copy=pl.col("r") > pl.col("r").min().over("comp", "exact_key"),
            distinct_categories=pl.col("category").n_unique().over("comp")
            - pl.col("category").is_null().any().over("comp").cast(pl.UInt32),
            group_id=(pl.col("source") + ":" + pl.col("ticket_id"))
            .sort_by("r")
            .first()
            .over("comp"),
        )
        .with_columns(
            kind=pl.when(pl.col("is_first"))
            .then(pl.lit("original"))
            .when(pl.col("exact_copy") & pl.col("exact_key").is_not_null())
            .then(pl.lit("exact"))
            .otherwise(pl.lit("near")),
            similarity=pl.when(pl.col("exact_copy") & pl.col("exact_key").is_not_null())
            .then(1.0)
            .otherwise(pl.col("s")),
        )
        .select(
            "source",
            "ticket_id",
            "group_id",
            "kind",
            pl.col("size").cast(pl.Int32).alias("group_size"),
            "is_first",
            "similarity",
            pl.col("distinct_categories").cast(pl.Int32),
            (pl.col("distinct_categories") > 1).alias("label_conflict"),
        )
    )


# Bump when the sketch of a text changes for the same settings (tokeniser, hashing).
SKETCH_VERSION = 1
_TEXT_KEY = "hash(t.subject, t.description, t.customer_id)"


def _sketch_settings(settings: QualitySection) -> int:
    """Fingerprint of what a stored sketch depends on: other settings, other sketches."""
    parts = (
        kept_hash_version(SKETCH_VERSION),
        settings.duplicate_scope,
        settings.shingle_words,
        settings.minhash_permutations,
        settings.lsh_bands,
    )
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:7], "big")


def _read_texts(con, tickets: pl.DataFrame, rows: np.ndarray) -> pl.DataFrame:
    """customer_id, subject and description of `rows` of `tickets`, in that order."""
    keys = tickets.select("source", "ticket_id")[rows].with_columns(_pos=pl.Series(rows))
    con.register("_dup_rows", keys.to_arrow())
    try:
        return con.sql(
            """SELECT k._pos, t.customer_id, t.subject, t.description
            FROM _dup_rows k JOIN canonical.tickets t
              ON t.source = k.source AND t.ticket_id = k.ticket_id
            ORDER BY k._pos"""
        ).pl()
    finally:
        con.unregister("_dup_rows")


def run_duplicates(cfg: AuditConfig, progress: Progress = log.info) -> Duplicates:
    """Find duplicate groups and replace `audit.duplicate_groups`.

    Incremental: `audit.duplicate_sketch` keeps each ticket's sketch (exact key and LSH band
    keys, no text) with a hash of the text it came from. Only tickets that are new or whose
    subject, description or customer changed are read and sketched; candidate pairs come from
    every ticket's band keys as in a full run, and only the tickets of candidate pairs are
    read again to verify them. The groups equal a full run's (tested).
    """
    q = cfg.quality
    settings_key = _sketch_settings(q)
    timer = _Timer()
    tickets = _read_with_sketches(cfg, settings_key)
    progress(f"duplicates: {tickets.height:,} tickets read")
    timer("read")
    sketch, stale = _current_sketches(tickets, q, timer, progress)
    loaded = np.zeros(tickets.height, bool)
    loaded[stale] = True
    text_columns = ["customer_id", "subject", "description"]

    def shingles_of(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Texts read above are used again; only the others are read now.
        here, there = rows[loaded[rows]], rows[~loaded[rows]]
        texts = tickets.select(text_columns)[here]
        if len(there):
            with open_store(cfg.duckdb_path) as con:
                read = _read_texts(con, tickets, there).select(text_columns)
            texts = pl.concat([texts, read])
        owner, shingles = shingle_sets(texts, q)
        return np.concatenate([here, there])[owner], shingles

    found = group_duplicates(tickets, sketch, shingles_of, q, timer)
    found.stats["sketched"] = len(stale)
    _save(cfg, found, tickets, sketch, stale, settings_key)
    progress(
        f"duplicates: {found.stats.get('exact_copies', 0):,} exact and "
        f"{found.stats.get('near_copies', 0):,} near copies in {found.stats.get('groups', 0):,} groups"
    )
    return found


def _read_with_sketches(cfg: AuditConfig, settings_key: int) -> pl.DataFrame:
    """Every ticket with its kept sketch, and its text only where there is no current one.

    The store is held only to read (and later to write), not while sketching and grouping:
    other processes (a scheduled run, the UI) may use it meanwhile."""
    with open_store(cfg.duckdb_path) as con:
        ensure_tables(con)
        return con.sql(
            f"""SELECT t.source, t.ticket_id, t.customer_id, t.created_at, t.category,
                       {_TEXT_KEY} AS text_key, s.exact_key, s.band_keys,
                       -- Text only where there is no current sketch: new or changed tickets.
                       CASE WHEN s.exact_key IS NULL THEN t.subject END AS subject,
                       CASE WHEN s.exact_key IS NULL THEN t.description END AS description
                FROM canonical.tickets t
                LEFT JOIN audit.duplicate_sketch s
                  ON s.source = t.source AND s.ticket_id = t.ticket_id
                 AND s.text_key = {_TEXT_KEY} AND s.settings = ?""",
            params=[settings_key],
        ).pl()


def _current_sketches(
    tickets: pl.DataFrame, q: QualitySection, timer: _Timer, progress: Progress
) -> tuple[Sketch, np.ndarray]:
    """Every ticket's sketch: the kept one, or one made now from the text read for the
    tickets without one (returned as `stale`, the rows sketched now)."""
    n = tickets.height
    stale = np.nonzero(tickets["exact_key"].is_null().to_numpy())[0]
    exact_key = tickets["exact_key"].fill_null(0).to_numpy().astype(np.uint64)
    band_keys = np.zeros((n, q.lsh_bands), np.uint64)
    has = tickets["band_keys"].is_not_null().to_numpy()
    if has.any():
        kept = tickets["band_keys"].filter(pl.Series(has)).list.to_array(q.lsh_bands)
        band_keys[has] = kept.to_numpy().astype(np.uint64)
    if len(stale):
        texts = tickets.select("customer_id", "subject", "description")[stale]
        fresh, _, _ = sketch_texts(texts, q, timer)
        del texts
        exact_key[stale] = fresh.exact_key
        band_keys[stale] = fresh.band_keys
        has[stale] = fresh.has_shingles
        progress(f"duplicates: {len(stale):,} new or changed tickets sketched")
    return Sketch(exact_key, band_keys, has), stale


def _save(
    cfg: AuditConfig,
    found: Duplicates,
    tickets: pl.DataFrame,
    sketch: Sketch,
    stale: np.ndarray,
    settings_key: int,
) -> None:
    """The groups replace `audit.duplicate_groups`; the sketches made now are kept, those of
    other settings and of tickets no longer loaded go."""
    t0 = time.perf_counter()
    keys = tickets.select("source", "ticket_id", "text_key")[stale].to_arrow()
    bands = sketch.band_keys.shape[1]
    offsets = pa.array(np.arange(0, (len(stale) + 1) * bands, bands, dtype=np.int32))
    sketch_rows = (
        keys.append_column("exact_key", pa.array(sketch.exact_key[stale]))
        .append_column(
            "band_keys",
            pa.ListArray.from_arrays(offsets, pa.array(sketch.band_keys[stale].reshape(-1))),
        )
        .append_column("has", pa.array(sketch.has_shingles[stale]))
    )
    with (
        open_store(cfg.duckdb_path) as con,
        transaction(con, duplicate_rows=found.groups.to_arrow(), _sketch_rows=sketch_rows),
    ):
        ensure_tables(con)
        con.execute("DELETE FROM audit.duplicate_groups")
        con.execute("INSERT INTO audit.duplicate_groups SELECT * FROM duplicate_rows")
        con.execute(
            """DELETE FROM audit.duplicate_sketch s WHERE s.settings <> ?
            OR EXISTS (SELECT 1 FROM _sketch_rows k
                       WHERE k.source = s.source AND k.ticket_id = s.ticket_id)
            OR NOT EXISTS (SELECT 1 FROM canonical.tickets t
                           WHERE t.source = s.source AND t.ticket_id = s.ticket_id)""",
            [settings_key],
        )
        con.execute(
            """INSERT INTO audit.duplicate_sketch
            SELECT source, ticket_id, text_key, ?, exact_key,
                   CASE WHEN has THEN band_keys END
            FROM _sketch_rows""",
            [settings_key],
        )
        found.stats.setdefault("timings", {}).update({"write": round(time.perf_counter() - t0, 3)})
        save_stage_stats(con, "duplicates", found.stats)
