"""The classifier's 32-bit token ids equal the 64-bit n-gram hashes' low bits."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from ticket_audit.quality.text_features import hashed_ids, ngrams, word_hashes

TEXTS = [
    "Refund for order 1234 please",
    None,
    "",
    "one",
    "!!!",  # no words at all
    "Two words",
    "The router X2 drops Wi-Fi every hour; the router X2 is new.",
    "ünïcode wörds and 42 numbers",
]


@pytest.mark.parametrize("mask", [2**10 - 1, 2**20 - 1, 2**24 - 1])
def test_hashed_ids_equal_the_64_bit_path(mask: int) -> None:
    rng = np.random.default_rng(3)
    vocab = ["refund", "order", "late", "router", "wifi", "password", "reset", "x2", "the"]
    generated = [" ".join(rng.choice(vocab, size=int(rng.integers(0, 12)))) for _ in range(500)]
    words = word_hashes(pl.Series(TEXTS + generated, dtype=pl.Utf8), chunk=97)
    uni, bi = hashed_ids(words.ids(), mask)
    _, bi64 = ngrams(words, 2, short_whole=False, mix=False)
    assert uni.dtype == bi.dtype == np.int32
    assert np.array_equal(uni, (words.hashes & np.uint64(mask)).astype(np.int32))
    assert np.array_equal(bi, (bi64 & np.uint64(mask)).astype(np.int32))
    # One bigram per pair of neighbouring words inside a text, none across texts.
    assert len(bi) == int(np.maximum(words.lengths - 1, 0).sum())


def test_hashed_ids_of_no_words_and_a_bad_mask() -> None:
    words = word_hashes(pl.Series(["", None, "word"], dtype=pl.Utf8))
    uni, bi = hashed_ids(words.ids(), 2**10 - 1)
    assert len(uni) == 1 and len(bi) == 0
    with pytest.raises(ValueError, match="31-bit"):
        hashed_ids(words.ids(), 2**32 - 1)


def test_taking_texts_keeps_each_texts_words() -> None:
    words = word_hashes(pl.Series(TEXTS, dtype=pl.Utf8)).ids()
    rows = np.array([6, 0, 3, 1, 6, 7], np.int64)  # reordered, repeated, empty texts too
    taken = words.take(rows)
    assert taken.n == len(rows)
    for i, r in enumerate(rows):
        mine = taken.low[taken.offsets[i] : taken.offsets[i + 1]]
        theirs = words.low[words.offsets[r] : words.offsets[r + 1]]
        assert np.array_equal(mine, theirs)
    assert words.take(np.zeros(0, np.int64)).n == 0


def test_a_row_block_shares_the_matrix_and_equals_scipy_slicing() -> None:
    from ticket_audit.quality.classifier import _row_block, token_matrices

    words = word_hashes(pl.Series(TEXTS * 3, dtype=pl.Utf8)).ids()
    uni, _ = token_matrices(words, 2**10)
    for start, stop in [(0, 5), (3, 3), (7, 24), (0, 24)]:
        block = _row_block(uni, start, stop)
        assert (block != uni[start:stop]).nnz == 0 and block.shape == (stop - start, 2**10)
        assert np.shares_memory(block.data, uni.data) or block.nnz == 0
