"""The fast scanner: the analyzer's recognizers over many texts, without per-text overhead.

Where the time goes in Presidio's BatchAnalyzerEngine, and what this module does instead:

- the whole spaCy pipeline (tagger, parser, lemmatizer, NER) runs on every text; only NER
  finds names, so only the NER component runs here (its tok2vec is its own);
- support desks repeat themselves (macros, signatures, greetings, quoted replies, a
  description that is also the first message): each distinct text gets the pattern
  recognizers once, and each distinct sentence the NER pass once;
- every recognizer runs on every text; here each has a cheap trigger (no '@', no email);
- the NER pass can use both cores (`n_process`): on large batches, and only when a core is
  idle (forked workers that return spans, not Docs).

Results per text equal what the recognizers find on that text, except that NER sees a
sentence at a time; the benchmark and the accuracy tests measure that this costs no recall.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from presidio_analyzer import AnalyzerEngine

from ticket_audit.config.pii import PiiSection
from ticket_audit.pii.analyzer import LANGUAGE, build_analyzer
from ticket_audit.pii.recognizers import Finding, TicketPatternRecognizer, TicketPersonRecognizer

# Below this many distinct sentences a second NER process costs more than it saves.
PARALLEL_MIN_SEGMENTS = 20_000
_FORKED_SCANNER: Scanner | None = None
log = logging.getLogger(__name__)


def _spans_in_worker(texts: list[str]) -> list[list[tuple[int, int]]]:
    assert _FORKED_SCANNER is not None
    return _FORKED_SCANNER._person_spans_here(texts)


_BOUNDARY = re.compile(r"\n+|(?<=[.!?])[ \t]+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Ave|Rd|Jr|Sr|No|Nr|Apt|Ste|Inc|Ltd|Co|Corp|vs|etc|"
    r"Blvd|Ln|Mt|Ft|Gen|Col|Capt|Lt|Sgt|Rev|Hon|ul|al|e\.g|i\.e)|\b[A-Z])\.$"
)
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*?(?:_[0-9a-f]{4,64})?>")


def segments(text: str) -> list[tuple[int, str]]:
    """Sentences and lines of `text` with their offsets (the unit of the NER pass).

    Names never span a line break or a sentence end; abbreviations ("Mr.", "St.", "J.")
    do not end a sentence.
    """
    out: list[tuple[int, str]] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        if m.group()[0] != "\n" and _ABBREVIATION.search(text, max(0, m.start() - 6), m.start()):
            continue
        _append_segment(out, text, pos, m.start())
        pos = m.end()
    _append_segment(out, text, pos, len(text))
    return out


def _append_segment(out: list[tuple[int, str]], text: str, start: int, end: int) -> None:
    while start < end and text[start] in " \t\r":
        start += 1
    while end > start and text[end - 1] in " \t\r":
        end -= 1
    if end - start >= 2:
        out.append((start, text[start:end]))


class AllowList:
    """The company's own contact points and product names: never findings.

    A finding is dropped when it overlaps an occurrence of an allow-listed phrase (a model may
    tag "Nimbus Support Team" as a person), equals one, or, for phone numbers, has the same
    last ten digits as an allow-listed number however it is written.
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        phrases = [p.strip() for p in phrases if p and p.strip()]
        self.values = {p.casefold() for p in phrases}
        self.phone_tails = {
            d[-10:] for d in ("".join(c for c in p if c.isdigit()) for p in phrases) if len(d) >= 7
        }
        if phrases:
            alternation = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
            self._regex: re.Pattern[str] | None = re.compile(alternation, re.IGNORECASE)
        else:
            self._regex = None

    def filter(self, text: str, findings: list[Finding]) -> list[Finding]:
        if self._regex is None or not findings:
            return findings
        spans = [m.span() for m in self._regex.finditer(text)]
        kept = []
        for f in findings:
            if any(s < f.end and f.start < e for s, e in spans):
                continue
            value = text[f.start : f.end]
            if value.casefold() in self.values:
                continue
            if f.entity_type == "PHONE_NUMBER" and self.phone_tails:
                digits = "".join(c for c in value if c.isdigit())
                if digits[-10:] in self.phone_tails:
                    continue
            kept.append(f)
        return kept


def resolve_overlaps(findings: list[Finding], pattern_first: bool = True) -> list[Finding]:
    """One entity per character: validated patterns beat the model's guesses, then higher
    score, then the longer span. Redaction needs disjoint spans and so does counting."""
    if len(findings) < 2:
        return findings

    def rank(f: Finding):
        return (
            pattern_first and f.recognizer != TicketPersonRecognizer.NAME,
            f.score,
            f.end - f.start,
        )

    kept: list[Finding] = []
    for f in sorted(findings, key=rank, reverse=True):
        if all(f.end <= k.start or k.end <= f.start for k in kept):
            kept.append(f)
    kept.sort(key=lambda f: (f.start, f.end))
    return kept


@dataclass
class ScanStats:
    texts: int = 0
    distinct_texts: int = 0
    segments: int = 0
    distinct_segments: int = 0
    ner_seconds: float = 0.0
    pattern_seconds: float = 0.0
    n_process: int = 1


class Scanner:
    """Scans texts with the recognizers of an AnalyzerEngine built from the `pii` config."""

    def __init__(self, config: PiiSection, analyzer: AnalyzerEngine | None = None) -> None:
        self.config = config
        self.analyzer = analyzer or build_analyzer(config)
        recognizers = self.analyzer.registry.recognizers
        self.patterns = [r for r in recognizers if isinstance(r, TicketPatternRecognizer)]
        self.person = next((r for r in recognizers if isinstance(r, TicketPersonRecognizer)), None)
        self.nlp = self.analyzer.nlp_engine.nlp[LANGUAGE] if self.person else None
        self.allow = AllowList(config.allow_list)
        self.stats = ScanStats()

    # -- the NER pass ---------------------------------------------------------------------------

    def _ner_pipes_disabled(self) -> list[str]:
        return [name for name in self.nlp.pipe_names if name != "ner"]

    def _n_process(self, n_segments: int, n_process: int | str | None) -> int:
        n = self.config.n_process if n_process is None else n_process
        if n != "auto":
            return max(1, int(n))
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        # A second process only helps when a core is idle: on a machine already saturated
        # by other work it adds fork and scheduling cost for nothing.
        idle = (cpus or 1) - os.getloadavg()[0]
        if n_segments >= PARALLEL_MIN_SEGMENTS and (cpus or 1) >= 2 and idle >= 0.5:
            return 2
        return 1

    def person_spans(
        self, texts: Sequence[str], n_process: int | str | None = None
    ) -> list[list[tuple[int, int]]]:
        """Accepted PERSON spans per text, from the NER component alone."""
        if self.nlp is None or not texts:
            return [[] for _ in texts]
        procs = self._n_process(len(texts), n_process)
        self.stats.n_process = procs
        if procs == 1:
            return self._person_spans_here(texts)
        return self._person_spans_forked(texts, procs)

    def _person_spans_here(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        docs = self.nlp.pipe(
            texts, batch_size=self.config.batch_size, disable=self._ner_pipes_disabled()
        )
        return [self.person.results_from_doc(doc) for doc in docs]

    def _person_spans_forked(self, texts: Sequence[str], procs: int) -> list[list[tuple[int, int]]]:
        # Forked workers inherit the loaded model and send back only (start, end) pairs;
        # spaCy's own n_process ships every Doc back through a pipe, which costs about as
        # much as the NER it parallelises on short sentences.
        global _FORKED_SCANNER
        chunk = max(500, -(-len(texts) // (procs * 8)))
        chunks = [list(texts[i : i + chunk]) for i in range(0, len(texts), chunk)]
        _FORKED_SCANNER = self
        try:
            with mp.get_context("fork").Pool(procs) as pool:
                parts = pool.map(_spans_in_worker, chunks)
        except (OSError, ValueError) as exc:
            log.warning("parallel NER pass unavailable (%s); running in one process", exc)
            self.stats.n_process = 1
            return self._person_spans_here(texts)
        finally:
            _FORKED_SCANNER = None
        return [spans for part in parts for spans in part]

    # -- scanning -------------------------------------------------------------------------------

    def pattern_findings(self, text: str) -> list[Finding]:
        lowered = text.lower()
        out: list[Finding] = []
        for recognizer in self.patterns:
            out.extend(recognizer.find(text, lowered))
        return out

    def scan(
        self,
        texts: Sequence[str | None],
        *,
        threshold: float | None = None,
        n_process: int | str | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> list[list[Finding]]:
        """Findings per text (sorted, disjoint, at or above the threshold)."""
        threshold = self.config.score_threshold if threshold is None else threshold
        cache = self.config.cache_segments
        stats = self.stats = ScanStats(texts=len(texts))

        # Distinct texts (or every text when caching is off, for honest comparisons).
        if cache:
            index: dict[str, int] = {}
            for t in texts:
                if t and t not in index:
                    index[t] = len(index)
            distinct = list(index)
        else:
            distinct = [t for t in texts if t]
        stats.distinct_texts = len(distinct)

        t0 = time.perf_counter()
        pattern_results = [self.pattern_findings(t) for t in distinct]
        stats.pattern_seconds = time.perf_counter() - t0

        person_results: list[list[Finding]] = [[] for _ in distinct]
        if self.nlp is not None:
            seg_index: dict[str, int] = {}
            seg_list: list[str] = []
            placements: list[tuple[int, int, int]] = []  # (text no, offset, segment no)
            for i, t in enumerate(distinct):
                for offset, seg in segments(t):
                    if not any(c.isalpha() for c in seg):
                        continue
                    stats.segments += 1
                    if cache:
                        k = seg_index.get(seg)
                        if k is None:
                            k = seg_index[seg] = len(seg_list)
                            seg_list.append(seg)
                    else:
                        k = len(seg_list)
                        seg_list.append(seg)
                    placements.append((i, offset, k))
            stats.distinct_segments = len(seg_list)
            if progress:
                progress(
                    f"PII scan: {len(distinct):,} distinct of {len(texts):,} texts, NER on "
                    f"{len(seg_list):,} distinct of {stats.segments:,} sentences"
                )
            t0 = time.perf_counter()
            spans = self.person_spans(seg_list, n_process)
            stats.ner_seconds = time.perf_counter() - t0
            name = self.person.name
            score = self.person.ner_strength
            for i, offset, k in placements:
                for s, e in spans[k]:
                    person_results[i].append(Finding(offset + s, offset + e, "PERSON", score, name))

        results: list[list[Finding]] = []
        for t, pats, persons in zip(distinct, pattern_results, person_results, strict=True):
            found = [f for f in pats + persons if f.score >= threshold]
            found = self.allow.filter(t, found)
            results.append(resolve_overlaps(found))

        if cache:
            return [results[index[t]] if t else [] for t in texts]
        it = iter(results)
        return [next(it) if t else [] for t in texts]

    def scan_one(self, text: str, threshold: float | None = None) -> list[Finding]:
        return self.scan([text], threshold=threshold, n_process=1)[0]


def strip_placeholders(text: str, findings: list[Finding]) -> list[Finding]:
    """Drop findings that lie inside a redaction placeholder (`<EMAIL_1f3a9c2b>`)."""
    if "<" not in text:
        return findings
    spans = [m.span() for m in _PLACEHOLDER.finditer(text)]
    return [f for f in findings if not any(s <= f.start and f.end <= e for s, e in spans)]
