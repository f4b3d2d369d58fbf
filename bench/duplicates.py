"""Near-duplicate candidates: our vectorised MinHash/LSH against `datasketch`, same tickets.

    python -m bench duplicates [--tickets 100000]

Both contenders get the same shingles (`duplicates.shingle_sets`), the same number of
permutations and the same bands (the quality defaults: 32 permutations, 8 bands of 4 rows),
and hand their candidate pairs to the same verification (exact Jaccard >= threshold) and
grouping, so the groups must agree up to the candidates LSH happens to find (both are
probabilistic; a pair either finds and the other misses is counted). Each contender runs in
a fresh spawned process: time and peak RSS are its own. Ours is `find_duplicates`, the
function the audit runs; datasketch's is `MinHash.bulk` + `MinHashLSH` (insert, then a query
per ticket), keeping pairs in the same duplicate scope (our band keys include the scope;
datasketch's LSH has no scope, so its cross-scope candidates are dropped after the query).
"""

from __future__ import annotations

import argparse

import numpy as np
import polars as pl

from bench.common import cached_history, isolated, table
from ticket_audit.config.quality import QualitySection


def _tickets(n: int) -> pl.DataFrame:
    history = cached_history(n, messages=False)
    raw = pl.read_csv(history.tickets_path, infer_schema=False)
    return raw.select(
        source=pl.lit("bench"),
        ticket_id="ticket_id",
        customer_id="customer_email",
        # Row order stands in for time: both contenders get the same order.
        created_at=pl.int_range(pl.len()),
        category="category",
        subject="subject",
        description="description",
    )


def _partition(groups: pl.DataFrame) -> set[frozenset[str]]:
    return {
        frozenset(ids)
        for ids in groups.group_by("group_id").agg("ticket_id")["ticket_id"].to_list()
    }


def ours(n: int) -> dict:
    from ticket_audit.quality.duplicates import find_duplicates

    tickets = _tickets(n)
    result = find_duplicates(tickets, QualitySection())
    return {
        "groups": _partition(result.groups),
        "candidates": result.stats["candidate_pairs"],
        "near_pairs": result.stats["near_pairs"],
    }


def with_datasketch(n: int) -> dict:
    from datasketch import MinHash, MinHashLSH
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from ticket_audit.quality import duplicates as d
    from ticket_audit.quality.text_features import _mix, word_hashes

    settings = QualitySection()
    tickets = _tickets(n)
    owner, shingles = d.shingle_sets(tickets, settings)
    scope = d.scope_hashes(tickets, settings)
    # Our 64-bit shingle hashes, folded to the 32 bits datasketch's permutations expect.
    values = (shingles ^ (shingles >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    starts = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
    ends = np.concatenate((starts[1:], [len(owner)]))
    rows = owner[starts]
    sets = [values[s:e].tolist() for s, e in zip(starts, ends, strict=True)]
    perms, bands = settings.minhash_permutations, settings.lsh_bands
    signatures = MinHash.bulk(sets, num_perm=perms, seed=17, hashfunc=int)
    lsh = MinHashLSH(num_perm=perms, params=(bands, perms // bands))
    with lsh.insertion_session() as session:
        for row, sig in zip(rows, signatures, strict=True):
            session.insert(int(row), sig, check_duplication=False)
    found = set()
    for row, sig in zip(rows, signatures, strict=True):
        for other in lsh.query(sig):
            if other != row and scope[other] == scope[row]:
                found.add((min(row, other), max(row, other)))
    pairs = pl.DataFrame(
        {"a": [a for a, _ in found], "b": [b for _, b in found]},
        schema={"a": pl.Int64, "b": pl.Int64},
    )
    # The same exact groups, verification and grouping as the audit (duplicates.py).
    words = word_hashes(d._texts(tickets))
    exact = np.where(words.sequence != 0, _mix(words.sequence ^ _mix(scope.copy())), np.uint64(0))
    if not pairs.is_empty():
        a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
        pairs = pairs.filter(~pl.Series((exact[a] == exact[b]) & (exact[a] != 0)))
    verified = d._jaccard(pairs, owner, shingles).filter(
        pl.col("similarity") >= settings.near_duplicate_threshold
    )
    order = np.lexsort((np.arange(n), exact))
    k = exact[order]
    first = np.concatenate(([True], k[1:] != k[:-1]))
    lead = order[first][np.cumsum(first) - 1]
    copy = ~first & (k != 0)
    a = np.concatenate([lead[copy], verified["a"].to_numpy()])
    b = np.concatenate([order[copy], verified["b"].to_numpy()])
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    members = pl.DataFrame({"ticket_id": tickets["ticket_id"], "group_id": component})
    sizes = members.group_by("group_id").len()
    groups = members.join(sizes.filter(pl.col("len") > 1), on="group_id")
    return {"groups": _partition(groups), "candidates": len(found), "near_pairs": verified.height}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench duplicates")
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args(argv)
    n = args.tickets
    _tickets(n)  # generate (and cache) the history before any clock starts
    mine, t_mine, mb_mine = isolated(ours, n)
    theirs, t_theirs, mb_theirs = isolated(with_datasketch, n)
    same = mine["groups"] & theirs["groups"]
    rows = [
        ["ours (numpy MinHash + LSH)", t_mine, mb_mine, mine["candidates"], mine["near_pairs"],
         len(mine["groups"]), 1.0],
        ["datasketch 2.0 MinHash.bulk + MinHashLSH", t_theirs, mb_theirs, theirs["candidates"],
         theirs["near_pairs"], len(theirs["groups"]), t_theirs / t_mine],
    ]  # fmt: skip
    print(f"\nnear-duplicate detection on {n:,} generated tickets (one fresh process each)")
    print(
        table(
            ["contender", "seconds", "peak MB", "candidates", "near pairs", "groups", "x ours"],
            rows,
        )
    )
    print(
        f"groups found by both: {len(same):,}; only ours: {len(mine['groups'] - same):,}; "
        f"only datasketch: {len(theirs['groups'] - same):,}"
    )
    return 0
