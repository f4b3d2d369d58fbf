"""Word hashes, shingles and n-gram ids, vectorised (polars + numpy).

Tokenising 1M tickets word by word in Python takes minutes; here polars splits and hashes
the words in Rust and numpy combines neighbouring hashes with contiguous slices (no
gathers), so duplicate detection and the label classifier share one fast path.

Polars does not promise the same hashes across its versions, and hashes kept between audits
(duplicate sketches, reply labels, the label model's word ids) are compared with new ones:
every kept hash carries `kept_hash_version`, and a Polars upgrade makes them all stale.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

WORD_PATTERN = r"[\p{L}\p{N}]+"
_MULT = np.uint64(0x9E3779B97F4A7C15)


def kept_hash_version(version: int) -> str:
    """What a stored hash is only comparable under: its own format `version` and Polars'."""
    return f"{version}/polars-{pl.__version__}"


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads combined hashes over all 64 bits."""
    h = h ^ (h >> np.uint64(30))
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


@dataclass(frozen=True)
class _Texts:
    """Flat per-word values of n texts: text i owns the values offsets[i]:offsets[i + 1]."""

    offsets: np.ndarray  # int64, n + 1

    @property
    def n(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


@dataclass(frozen=True)
class Words(_Texts):
    """Word hashes of n texts: text i owns hashes[offsets[i]:offsets[i + 1]]."""

    hashes: np.ndarray  # uint64
    # One hash per text of its word sequence (0: no words). Equal for texts with the same
    # words in the same order, whatever their case, punctuation or spacing.
    sequence: np.ndarray  # uint64, n

    def owner(self) -> np.ndarray:
        return np.repeat(np.arange(self.n, dtype=np.int32), self.lengths)

    def ids(self) -> WordIds:
        # A contiguous copy, so that the 64-bit hashes can be freed.
        return WordIds(self.offsets, np.ascontiguousarray(_low_words(self.hashes)))


@dataclass(frozen=True)
class WordIds(_Texts):
    """The low 32 bits of each word hash of n texts, text i owning low[offsets[i]:offsets[i + 1]].

    All the label model needs (`hashed_ids`), at half the size of `Words`: what a re-audit
    keeps per ticket instead of tokenising the history again.
    """

    low: np.ndarray  # uint32

    def take(self, rows: np.ndarray) -> WordIds:
        """The texts `rows`, in that order."""
        lengths = self.lengths[rows]
        offsets = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return WordIds(offsets, self.low[segment_indices(self.offsets[rows], lengths)])


def segment_indices(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices start..start + length - 1 of every segment, concatenated."""
    total = int(lengths.sum())
    index = np.int32 if total < 2**31 and (len(starts) == 0 or starts.max() < 2**31) else np.int64
    if total == 0:
        return np.zeros(0, index)
    ends = np.cumsum(lengths)
    # Position within the output, moved to where its segment starts in the source.
    out = np.arange(total, dtype=index)
    out += np.repeat((starts - (ends - lengths)).astype(index), lengths)
    return out


def _chunk_words(texts: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    words = (
        texts.str.to_lowercase().str.extract_all(WORD_PATTERN).list.eval(pl.element().hash(seed=0))
    )
    n_words = words.list.len().fill_null(0)
    seq = pl.select(pl.when(n_words > 0).then(words.hash(seed=5)).otherwise(0)).to_series()
    return (
        n_words.to_numpy().astype(np.int64),
        words.explode().drop_nulls().to_numpy().astype(np.uint64, copy=False),
        seq.to_numpy().astype(np.uint64),
    )


def word_hashes(texts: pl.Series, chunk: int = 100_000) -> Words:
    chunks = [texts.slice(start, chunk) for start in range(0, len(texts), chunk)]
    # Polars releases the GIL inside string kernels: chunks run on every core.
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        done = list(pool.map(_chunk_words, chunks))
    lengths = [d[0] for d in done]
    parts = [d[1] for d in done]
    seqs = [d[2] for d in done]
    del done
    lens = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    offsets = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    flat = np.concatenate(parts) if parts else np.zeros(0, np.uint64)
    seq = np.concatenate(seqs) if seqs else np.zeros(0, np.uint64)
    return Words(offsets, flat, seq)


def ngrams(
    words: Words, k: int, *, short_whole: bool, mix: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(owner text index int32, hash uint64) of every run of k consecutive words.

    Each text's n-grams are contiguous, in text order. With `short_whole`, a text of 1..k-1
    words yields one n-gram of all its words (so short texts still have a shingle to
    compare); those come last, after every other text's.
    """
    h, n_words = words.hashes, len(words.hashes)
    lens = words.lengths
    if k == 1:
        return words.owner(), _mix(h.copy())
    if n_words < k:
        combined = np.zeros(0, np.uint64)
        valid = np.zeros(0, bool)
    else:
        # Hash of words [i, i + k) for every i, from contiguous slices.
        combined = h[: n_words - k + 1].copy()
        for j in range(1, k):
            combined *= _MULT
            combined += h[j : n_words - k + 1 + j]
        # Valid where the run stays inside one text.
        word_owner = words.owner()
        valid = word_owner[: n_words - k + 1] == word_owner[k - 1 :]
        del word_owner
    owner = np.repeat(np.arange(words.n, dtype=np.int32), np.maximum(lens - k + 1, 0))
    out = combined[valid]
    if mix:
        out = _mix(out)
    if short_whole:
        short = np.nonzero((lens > 0) & (lens < k))[0]
        if len(short):
            extra = np.zeros(len(short), np.uint64)
            for j in range(k - 1):
                has = lens[short] > j
                idx = np.minimum(words.offsets[short] + j, n_words - 1)
                extra = np.where(has, extra * _MULT + h[idx], extra)
            owner = np.concatenate([owner, short.astype(np.int32)])
            out = np.concatenate([out, _mix(extra)])
    return owner, out


def _low_words(h: np.ndarray) -> np.ndarray:
    """The low 32 bits of each uint64, as a strided view (no copy)."""
    h = np.ascontiguousarray(h, dtype=np.uint64)
    return h.view(np.uint32)[0 if sys.byteorder == "little" else 1 :: 2]


def hashed_ids(words: WordIds, mask: int) -> tuple[np.ndarray, np.ndarray]:
    """(unigram ids, bigram ids) as int32: the word hashes and the unmixed bigram hashes of
    `ngrams(words, 2, short_whole=False, mix=False)`, each `& mask` (mask < 2**31).

    The low bits of a product or sum depend only on the low bits of its operands, so the
    bigram hash is combined in 32-bit arithmetic on the low words: a quarter of the memory
    traffic of the 64-bit path and the same ids.
    """
    if not 0 <= mask < 2**31:
        raise ValueError(f"mask {mask} does not fit a 31-bit id")
    m32 = np.uint32(mask)
    low = words.low
    uni = np.bitwise_and(low, m32).view(np.int32)
    n_words = len(low)
    if n_words < 2:
        return uni, np.zeros(0, np.int32)
    bi = low[:-1] * np.uint32(int(_MULT) & 0xFFFFFFFF)
    bi += low[1:]
    # A pair is inside one text unless its second word starts the next text.
    starts = words.offsets[1:-1]
    starts = starts[(starts > 0) & (starts < n_words)]
    valid = np.ones(n_words - 1, bool)
    valid[starts - 1] = False
    bi = bi[valid]
    bi &= m32
    return uni, bi.view(np.int32)
