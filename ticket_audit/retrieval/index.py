"""A BM25 index over ticket text with tantivy (Rust, ships in the wheel, runs offline).

Text is split on non-alphanumerics, lower-cased, English stop words dropped and stemmed; the
index keeps term frequencies but no positions (bag-of-words BM25 needs none, and the index
stays smaller). Documents carry only their row number: labels and reply flags stay in the
corpus frame, so nothing but the inverted index is written to disk.

A query is a ticket text analysed the same way, cut to its rarest terms: common terms have
long posting lists that dominate the cost of a disjunction while adding little to a BM25
score (on 1M generated tickets, 12 rarest terms instead of the first 32 words cut p95 four-
to eight-fold at the same precision@5; docs/benchmarks.md).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import tantivy

ANALYZER = "ticket_en"
_WORD = re.compile(r"[^\W_]+")


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stopword("english"))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("text", stored=False, tokenizer_name=ANALYZER, index_option="freq")
    sb.add_integer_field("row", fast=True)
    return sb.build()


def query_words(text: str, max_words: int) -> list[str]:
    """The first `max_words` distinct lower-cased words of `text` (for plain-text scans)."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))[:max_words]


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class TicketIndex:
    def __init__(self, index: tantivy.Index, path: Path | None):
        self._index = index
        self._schema = index.schema
        self._analyzer = _analyzer()
        self.path = path
        index.reload()
        self._searcher = index.searcher()

    @classmethod
    def build(
        cls,
        docs: Iterable[tuple[int, str]],
        path: Path | None = None,
        *,
        threads: int = 1,
        heap_mb: int = 256,
    ) -> TicketIndex:
        """Index (row, text) pairs; `path` None keeps the index in memory. Replaces `path`."""
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
        index = tantivy.Index(_schema(), path=str(path) if path else None)
        index.register_tokenizer(ANALYZER, _analyzer())
        writer = index.writer(heap_mb * 1_000_000, threads)
        for row, text in docs:
            doc = tantivy.Document()
            doc.add_text("text", text or "")
            doc.add_integer("row", row)
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        return cls(index, path)

    @classmethod
    def open(cls, path: Path) -> TicketIndex:
        """An index built earlier at `path` (the analyzer is registered again: tantivy
        keeps only its name on disk)."""
        index = tantivy.Index.open(str(path))
        index.register_tokenizer(ANALYZER, _analyzer())
        return cls(index, path)

    @property
    def num_docs(self) -> int:
        return self._searcher.num_docs

    def size_bytes(self) -> int | None:
        return dir_bytes(self.path) if self.path else None

    def query_terms(self, text: str, max_terms: int) -> list[str]:
        """The `max_terms` rarest index terms of `text` (ties by term, so it is deterministic)."""
        tokens = dict.fromkeys(self._analyzer.analyze(text or ""))
        ranked = sorted((self._searcher.doc_freq("text", t), t) for t in tokens)
        return [t for freq, t in ranked if freq > 0][:max_terms]

    def search(self, text: str, k: int, max_terms: int = 12) -> list[int]:
        """Rows of the top `k` documents for a ticket text, best first (BM25)."""
        terms = self.query_terms(text, max_terms)
        if not terms:
            return []
        # Built from terms, not parsed: ticket text never meets the query language.
        query = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "text", t))
                for t in terms
            ]
        )
        hits = self._searcher.search(query, k, count=False).hits
        return self._searcher.fast_field_values("row", [addr for _, addr in hits])
