"""The fast scanner: the analyzer's recognizers over many texts, without per-text overhead.

Where the time goes in Presidio's BatchAnalyzerEngine, and what this module does instead:

- the whole spaCy pipeline (tagger, parser, lemmatizer, NER) runs on every text; only NER
  finds names, so only the NER component is loaded and runs here (its tok2vec is its own),
  and only on the words around a capitalised word that could be a name (`name_windows`):
  on support text that does not repeat, about a fifth of the tokens;
- support desks repeat themselves (macros, signatures, greetings, quoted replies, a
  description that is also the first message): each distinct text gets the pattern
  recognizers once, and each distinct sentence the NER pass once;
- every recognizer runs on every text; here each has a cheap trigger (no '@', no email);
- the NER and pattern passes can use both cores (`n_process`), only when a core is idle:
  this process works through the batch from the front while helper processes (which return
  spans, not Docs) take it from the back once their model is loaded, so a helper that is
  still starting never holds the batch up.

Results per text equal what the recognizers find on that text, except that NER sees a
sentence at a time; the benchmark and the accuracy tests measure that this costs no recall.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from presidio_analyzer import AnalyzerEngine
from threadpoolctl import threadpool_limits

from ticket_audit.config.pii import PiiSection
from ticket_audit.pii.analyzer import LANGUAGE, build_analyzer, load_spacy
from ticket_audit.pii.cores import MAX_SAMPLE_S, CpuMark, fork_is_safe, idle_cpus
from ticket_audit.pii.language import LanguageDetector, detectors_for
from ticket_audit.pii.masked import MaskedPlaceholders, MaskedSpan
from ticket_audit.pii.recognizers import Finding, TicketPatternRecognizer, TicketPersonRecognizer
from ticket_audit.pii.spacy_languages import lang_class

# Sentences whose NER result is remembered across scans (about 200 bytes each), and texts
# whose pattern findings are (their size: support texts average a few hundred bytes).
NER_CACHE_SENTENCES = 500_000
PATTERN_CACHE_TEXTS = 200_000
# Below this many items a spawned helper process (which loads its own model, seconds of a
# core) would not finish loading before this process is done. Measured from a fresh process
# on distinct text (bench pii_distinct's corpus, idle 2-core machine): a helper made 3,000
# texts 4.5 -> 5.5 s, 4,500 and 6,000 no faster, 12,268 texts 11.6 -> 9.0 s. (3,000 was
# chosen on warm libraries, where the helper's own imports did not count.)
POOL_START_MIN_ITEMS = 8_000
# A forked helper has the models already (`cores.fork_is_safe`): worth starting for less.
FORK_START_MIN_ITEMS = 1_000
# Below this many items a running helper costs more in pickling than it saves.
PARALLEL_MIN_SEGMENTS = 2_000
# Seconds a closing scanner waits for a helper to finish (a model still loading) before it
# kills it.
HELPER_STOP_S = 30.0
# The scanner of a worker process, built once from the parent's config.
_WORKER_SCANNER: Scanner | None = None
log = logging.getLogger(__name__)


def _through_cache(cache: dict, limit: int, keys: list[str], compute: Callable) -> tuple[list, int]:
    """(values for `keys`, how many distinct keys `cache` already held), computing only the
    others; the cache is emptied rather than grown past `limit` entries."""
    known = {k: cache[k] for k in keys if k in cache}
    hits = len(known)
    misses = list(dict.fromkeys(k for k in keys if k not in known))
    if misses:
        values = compute(misses)
        if len(cache) + len(misses) > limit:
            cache.clear()
        for k, v in zip(misses, values, strict=True):
            cache[k] = known[k] = v
    return [known[k] for k in keys], hits


def _start_worker(config_json: str) -> None:
    global _WORKER_SCANNER
    # One core per process: a helper runs beside the main process, and BLAS threads of two
    # processes contending for two cores made the NER pass twice as slow.
    threadpool_limits(1, user_api="blas")
    _WORKER_SCANNER = Scanner(PiiSection.model_validate_json(config_json))


def _adopt_scanner(scanner: Scanner) -> None:
    """A forked helper: the parent's scanner, models and all, is already in its memory."""
    global _WORKER_SCANNER
    # As a spawned helper starts: the parent's own signal handlers are not the helper's.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    threadpool_limits(1, user_api="blas")
    _WORKER_SCANNER = scanner


def _worker_ready() -> bool:
    return _WORKER_SCANNER is not None


def free_read_lock(pool) -> None:
    """Release the pool's task-queue read lock if a killed helper left it taken.

    An idle helper holds that lock while it waits for work; killed there, it never gives it
    back, and the pool's finalizer (`Pool._help_stuff_finish`) takes the same lock, so the
    audit would wait forever (seen at 1M: the residual scan hung in that finalizer). Every
    helper is dead when this runs, so a taken lock can only be a dead helper's."""
    lock = getattr(getattr(pool, "_inqueue", None), "_rlock", None)
    if lock is None:
        return
    lock.acquire(block=False)  # ours now, whether a dead helper held it or nobody did
    lock.release()


def _spans_in_worker(keys: list[str]) -> list[list[tuple[int, int, int]]]:
    assert _WORKER_SCANNER is not None
    return _WORKER_SCANNER._keyed_spans_here(keys)


def _patterns_in_worker(texts: list[str]) -> list[list[Finding]]:
    assert _WORKER_SCANNER is not None
    return [_WORKER_SCANNER.pattern_findings(t) for t in texts]


# Separates a language code from a sentence in the NER cache's keys (English: no prefix, so
# the keys and stored spans of English sentences are as before).
_LANG_SEP = "\x1f"


def _listens(nlp) -> bool:
    """Whether the NER component reads the shared tok2vec (then it must run too)."""
    if "tok2vec" not in nlp.pipe_names:
        return False
    return "ner" in getattr(nlp.get_pipe("tok2vec"), "listening_components", [])


_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# Capitalised words that are never names at the start of a sentence (besides the model
# language's stop words): a sentence whose only capital is one of these has no name to find.
_OPENERS = frozenset(
    [
        "i",
        "i'm",
        "i've",
        "i'll",
        "i'd",
        "please",
        "thanks",
        "thank",
        "hi",
        "hello",
        "hey",
        "dear",
        "yes",
        "no",
        "ok",
        "okay",
        "sorry",
        "regards",
        "unfortunately",
        "also",
        "however",
        "just",
        "still",
        "can",
        "could",
        "would",
        "should",
        "will",
    ]
)


# A contraction's tail ("It's", "We're", "Don't"): the word before it decides.
_CONTRACTION = re.compile(r"(?:n['’]t|['’](?:s|re|ve|ll|d|m))$")
# Stop words that are also given names ("Will", "May"): never ruled out inside a sentence.
_NAME_LIKE_STOP_WORDS = frozenset(["will", "may"])
# Words of context the NER pass reads either side of a word that may be a name. The model
# (en_core_web_sm: a tok2vec of window 1 and depth 4, then the transition features) sees
# about five tokens either side. Five whitespace words (at least five tokens): the same
# tables from `ticket_audit.pii.evaluate` as eight, digit for digit, and on the 12,268 texts
# of bench pii_distinct the same findings but one false "disabilities" fewer, for 20% less
# NER time; four words lost PERSON precision on the synthetic set (0.756 -> 0.749).
NER_CONTEXT_WORDS = 5
# Windows that would cover most of a sentence are the sentence (one piece, cached as such).
_WHOLE_SENTENCE_SHARE = 0.7
_SPACE_WORD = re.compile(r"\S+")


def _name_candidates(segment: str, stop_words: frozenset[str]) -> list[int]:
    """Start offsets of the capitalised words a model could tag as a name or a place.

    Not candidates: a stop word opening the sentence ("The app crashes"), a title-case stop
    word anywhere ("... intermittent. We The issue": sentences joined without a full stop;
    "It's", "We're"), and the courtesy words of `_OPENERS`. Cheap: one regex pass."""
    out: list[int] = []
    first = True
    for m in _WORD.finditer(segment):
        w = m.group()
        if w[0].isupper():
            low = _CONTRACTION.sub("", w.lower())
            title = len(w) == 1 or w[1:].islower()
            if not (
                low in _OPENERS
                or (first and low in stop_words)
                or (title and low in stop_words and low not in _NAME_LIKE_STOP_WORDS)
            ):
                out.append(m.start())
        first = False
    return out


def name_windows(segment: str, stop_words: frozenset[str]) -> list[tuple[int, int]]:
    """The (start, end) pieces of a sentence the NER pass reads: none when it has no word a
    model could tag as a name or a place (about three quarters of support sentences), else
    `NER_CONTEXT_WORDS` words either side of each such word, joined where they meet.

    The NER pass costs about the same per token whatever the text, and most of a long
    sentence lies far from any capitalised word: reading only the context the model uses
    halves its tokens on distinct support text. A sentence written all in lower case says
    nothing by its capitals ("my flight with olga krylova"): it is read whole."""
    if segment.islower():
        return [(0, len(segment))]
    candidates = _name_candidates(segment, stop_words)
    if not candidates:
        return []
    words = [m.span() for m in _SPACE_WORD.finditer(segment)]
    if len(words) <= 2 * NER_CONTEXT_WORDS + 1:
        return [(0, len(segment))]
    starts = [a for a, _ in words]
    pieces: list[list[int]] = []
    w = 0
    for c in candidates:
        while w + 1 < len(words) and starts[w + 1] <= c:
            w += 1
        lo = max(0, w - NER_CONTEXT_WORDS)
        hi = min(len(words) - 1, w + NER_CONTEXT_WORDS)
        if pieces and lo <= pieces[-1][1] + 1:
            pieces[-1][1] = max(pieces[-1][1], hi)
        else:
            pieces.append([lo, hi])
    spans = [(words[lo][0], words[hi][1]) for lo, hi in pieces]
    if sum(b - a for a, b in spans) >= _WHOLE_SENTENCE_SHARE * len(segment):
        return [(0, len(segment))]
    return spans


def could_hold_a_name(segment: str, stop_words: frozenset[str]) -> bool:
    """Whether a sentence has a word a model could tag as a name or a place."""
    return segment.islower() or bool(_name_candidates(segment, stop_words))


# A capitalised word joined to a name by "and", "&" or a comma (a list of people).
_LIST_NAME = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’-]+"
_COORD_AFTER = re.compile(
    rf"(?:,[ \t]*|[ \t]+(?:and|&)[ \t]+)(?P<name>{_LIST_NAME})\b(?![ \t]+[A-Z])"
)
_COORD_BEFORE = re.compile(rf"(?<![\w.])(?P<name>{_LIST_NAME})(?:,[ \t]*|[ \t]+(?:and|&)[ \t]+)$")

_BOUNDARY = re.compile(r"\n+|(?<=[.!?])[ \t]+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Ave|Rd|Jr|Sr|No|Nr|Apt|Ste|Inc|Ltd|Co|Corp|vs|etc|"
    r"Blvd|Ln|Mt|Ft|Gen|Col|Capt|Lt|Sgt|Rev|Hon|ul|al|e\.g|i\.e)|\b[A-Z])\.$"
)
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*?(?:_[0-9a-f]{4,64})?>")
_HASHED_PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*?)_[0-9a-f]{4,64}>")
Subs = tuple[tuple[int, int, int, int], ...]  # (collapsed start, end, original start, end)


def collapse_placeholders(text: str) -> tuple[str, Subs]:
    """`<PERSON_1f3a9c2b>` -> `<PERSON>`, with the substitutions made.

    Redacted text repeats its templates with a different pseudonym in every ticket; without
    the hashes the residual scan sees each template once (and a hash never looks like an ID).
    """
    if "<" not in text:
        return text, ()
    out, subs, pos, shift = [], [], 0, 0
    for m in _HASHED_PLACEHOLDER.finditer(text):
        short = f"<{m.group(1)}>"
        out.append(text[pos : m.start()])
        start = m.start() - shift
        subs.append((start, start + len(short), m.start(), m.end()))
        out.append(short)
        shift += (m.end() - m.start()) - len(short)
        pos = m.end()
    if not subs:
        return text, ()
    out.append(text[pos:])
    return "".join(out), tuple(subs)


def _remap(findings: list[Finding], subs: Subs) -> list[Finding]:
    if not subs:
        return findings
    out = []
    for f in findings:
        start, end = to_original(f.start, f.end, subs)
        out.append(f._replace(start=start, end=end))
    return out


def to_original(start: int, end: int, subs: Subs) -> tuple[int, int]:
    """A span of the collapsed text in the original; a span touching a placeholder covers it."""
    shift_s = shift_e = 0
    for ns, ne, os_, oe in subs:
        if start >= ne:
            shift_s = oe - ne
        elif start > ns:
            start, shift_s = ns, os_ - ns
        if end >= ne:
            shift_e = oe - ne
        elif end > ns:
            end, shift_e = ne, oe - ne
    return start + shift_s, end + shift_e


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


class SpanStore(Protocol):
    """NER spans per sentence kept beyond this process (ticket_audit/pii/ner_store.py)."""

    def lookup(self, sentences: Sequence[str]) -> dict[str, list[tuple[int, int, int]]]: ...

    def remember(
        self, sentences: Sequence[str], spans: Sequence[list[tuple[int, int, int]]]
    ) -> None: ...


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


_ADDRESS_EDGE = " \t\r\n,;:-"


def split_addresses(text: str, findings: list[Finding]) -> list[Finding]:
    """A place the model names inside a found street address (the city, the country of a
    postal block) is reported as the LOCATION it is, and the address around it keeps its
    other parts: one span per kind, as labelled sets and compliance count them."""
    places = [f for f in findings if f.entity_type == "LOCATION"]
    if not places:
        return findings
    out = []
    for f in findings:
        inner = [
            p
            for p in places
            if f.entity_type == "STREET_ADDRESS"
            and f.start < p.start
            and p.end <= f.end
            and _own_component(text, f, p)
        ]
        if not inner:
            out.append(f)
            continue
        parts, pos = [], f.start
        for p in sorted(inner, key=lambda p: p.start):
            parts.extend(_address_part(text, f, pos, p.start))
            pos = p.end
        parts.extend(_address_part(text, f, pos, f.end))
        # Only a place that is a small part of the block (a city line, a country): a model
        # span that swallows the street would leave an address no longer recognisable.
        if sum(x.end - x.start for x in parts) >= 0.5 * (f.end - f.start):
            out.extend(parts)
        else:
            out.append(f)
    return out


_STREET_WORDS = frozenset(
    [
        "street",
        "st",
        "road",
        "rd",
        "avenue",
        "ave",
        "lane",
        "ln",
        "drive",
        "dr",
        "boulevard",
        "blvd",
        "court",
        "ct",
        "place",
        "pl",
        "way",
        "terrace",
        "square",
        "sq",
        "circle",
        "parkway",
        "highway",
        "hwy",
        "crescent",
        "close",
        "row",
        "walk",
    ]
)


def _own_component(text: str, address: Finding, place: Finding) -> bool:
    """Whether a place is a component of the postal block of its own (", Springfield," or a
    line "Denmark 35018"), not a word of the street ("Quillfeather Lane")."""
    before = text[address.start : place.start].rstrip(" \t>")  # quoted lines: "> Norway"
    after = text[place.end : address.end].lstrip(" \t")
    if before.endswith((",", "\n")):
        return True
    # "… Street Springfield, IL": a separator after it, unless the "place" ends the street
    # name ("Quillfeather Lane": the model tags street suffixes as places).
    last = text[place.start : place.end].split()[-1].lower().rstrip(".")
    return (not after or after[0] in ",\n") and last not in _STREET_WORDS


# "I work for Brightlane", "spent a year at Corvexa": the model's "place" is an employer.
_EMPLOYER_CUE = re.compile(
    r"(?i:\b(?:work|works|worked|working|employed|employment|job|internship|years?|months?|"
    r"joined|join|joining) (?:for|at|by|with)\s*)$"
)
# "Kovács, Becker and Lindqvist", "harlow, fox and pennick": single words joined by commas
# and a last "and" (a street and its city, "Maple Lane, Springfield", is no such list).
_LIST_WORD = r"[^\W\d_][\w'’-]+"
_WORD_LIST = re.compile(
    rf"(?<![\w'’-]){_LIST_WORD}(?:,[ \t]*{_LIST_WORD})*,?[ \t]+(?:and|&)[ \t]+{_LIST_WORD}"
)


def drop_non_places(text: str, found: list[Finding]) -> list[Finding]:
    """The model's places that are not places: a street-type word ("61 St."), an employer
    after "work for" / "a year at", and a member of a list of people ("Kovács, Becker and
    Lindqvist", or a firm named after them: the model read one member as a town). A quasi-identifier reported where there is none is a false
    finding in every count of places."""
    places = [f for f in found if f.entity_type == "LOCATION"]
    if not places:
        return found
    persons = [f for f in found if f.entity_type == "PERSON"]
    lists = [m.span() for m in _WORD_LIST.finditer(text)] if persons else []
    # Lists holding a person the model found.
    people = [(a, b) for a, b in lists if any(a <= p.start and p.end <= b for p in persons)]
    out = []
    for f in found:
        if f.entity_type == "LOCATION" and (
            text[f.start : f.end].lower().rstrip(".") in _STREET_WORDS
            or _EMPLOYER_CUE.search(text, max(0, f.start - 30), f.start)
            or any(a <= f.start and f.end <= b for a, b in people)
        ):
            continue
        out.append(f)
    return out


def _address_part(text: str, f: Finding, start: int, end: int) -> list[Finding]:
    while start < end and text[start] in _ADDRESS_EDGE:
        start += 1
    while end > start and text[end - 1] in _ADDRESS_EDGE:
        end -= 1
    # A bare postcode or house number left of a split is still part of the address.
    if end - start < 3:
        return []
    return [f._replace(start=start, end=end)]


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
    distinct_segments_cached: int = 0
    distinct_segments_stored: int = 0  # found in the store of earlier audits
    ner_seconds: float = 0.0
    pattern_seconds: float = 0.0
    n_process: int = 1


class Scanner:
    """Scans texts with the recognizers of an AnalyzerEngine built from the `pii` config."""

    def __init__(self, config: PiiSection, analyzer: AnalyzerEngine | None = None) -> None:
        self.config = config
        # The cores' use since a recent moment says whether one is idle (`cores.idle_cpus`):
        # this one, or the start of a scan when this one is older than MAX_SAMPLE_S.
        self._cpu_mark = CpuMark.now()
        # First: its model loads on a thread while the analyzer's loads here.
        self.language = LanguageDetector(config.languages, config.default_language)
        self.analyzer = analyzer or build_analyzer(config, ner_only=True)
        recognizers = self.analyzer.registry.recognizers
        self.patterns = [r for r in recognizers if isinstance(r, TicketPatternRecognizer)]
        self.person = next((r for r in recognizers if isinstance(r, TicketPersonRecognizer)), None)
        self.nlp = self.analyzer.nlp_engine.nlp[LANGUAGE] if self.person else None
        # Models of other languages, loaded when a text of theirs first comes.
        self._other_nlp: dict[str, object] = {}
        self._stops: dict[str, frozenset[str]] = {}
        self.allow = AllowList(config.allow_list)
        self.masked = MaskedPlaceholders(config.masked_patterns)
        self.stats = ScanStats()
        # Per text of the last `scan`: its language and the placeholders it holds.
        self.text_languages: list[str | None] = []
        self.text_masked: list[list[MaskedSpan]] = []
        self._ner_cache: dict[str, list[tuple[int, int, int]]] = {}
        self._workers = None
        self._workers_n = 0
        self._pattern_cache: dict[str, list[Finding]] = {}

    # -- languages ------------------------------------------------------------------------------

    def ner_model(self, language: str) -> str | None:
        """The spaCy model that finds names in `language`, or None (patterns and cues only)."""
        if self.person is None:
            return None
        if language == "en":
            return self.config.spacy_model
        return self.config.spacy_models.get(language)

    def detectors(self, language: str) -> list[str]:
        """What runs on a text in `language`: said in the report, per language."""
        return detectors_for(self.config, language)

    def _stop_words(self, language: str) -> frozenset[str]:
        words = self._stops.get(language)
        if words is None:
            try:
                words = frozenset(lang_class(language).Defaults.stop_words)
            except (ImportError, KeyError):  # a language spaCy has no defaults for
                words = frozenset()
            self._stops[language] = words
        return words

    @staticmethod
    def _ner_pieces(
        sentence: str, language: str, stop_words: frozenset[str]
    ) -> list[tuple[int, int]]:
        """What the NER pass reads of a sentence: windows in English (measured there), the
        whole sentence elsewhere. The French model tagged the lower-case words opening a
        cut window as a person ("architecture cloud", issue 20's masked export)."""
        if language == "en":
            return name_windows(sentence, stop_words)
        return [(0, len(sentence))] if could_hold_a_name(sentence, stop_words) else []

    def _nlp_for(self, language: str):
        if language == "en":
            return self.nlp
        if language not in self._other_nlp:
            self._other_nlp[language] = load_spacy(self.config.spacy_models[language], True)
        return self._other_nlp[language]

    # -- the NER pass ---------------------------------------------------------------------------

    def _n_process(self, n_segments: int, n_process: int | str | None) -> int:
        n = self.config.n_process if n_process is None else n_process
        if n != "auto":
            return max(1, int(n))
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        # Spawning helpers (each loads the model) costs seconds: worth it for a big batch;
        # forking them, a fraction of a second; running ones, only the pickling.
        if self._workers is not None:
            floor = PARALLEL_MIN_SEGMENTS
        elif n_segments >= FORK_START_MIN_ITEMS and fork_is_safe():  # no thread check below
            floor = FORK_START_MIN_ITEMS
        else:
            floor = POOL_START_MIN_ITEMS
        if n_segments < floor or (cpus or 1) < 2:
            return 1
        if self._workers is not None:
            # Already started (their load is paid for); measuring now would count their own
            # model loading as a busy core.
            return self._workers_n + 1
        # A second process only helps when a core is idle: on a machine already saturated
        # by other work it adds process and scheduling cost for nothing.
        return 2 if idle_cpus(self._cpu_mark) >= 0.5 else 1

    def prepare(self, expected_items: int, n_process: int | str | None = None) -> None:
        """Start the helper processes now when a batch of about `expected_items` texts will
        use them: they load their model while this process reads the batch from the
        database, instead of during the pattern pass."""
        procs = self._n_process(expected_items, n_process)
        if procs > 1:
            try:
                self._helpers(procs - 1)
            except (OSError, ValueError) as exc:
                log.warning("helper processes unavailable (%s); running in one process", exc)

    def person_spans(
        self, texts: Sequence[str], n_process: int | str | None = None
    ) -> list[list[tuple[int, int, int]]]:
        """Accepted PERSON spans per English text, from the NER component alone."""
        return self._spans_by_language(list(texts), n_process)

    def _person_spans_here(
        self, texts: Sequence[str], language: str = "en"
    ) -> list[list[tuple[int, int, int]]]:
        nlp = self._nlp_for(language)
        disable = [name for name in nlp.pipe_names if name not in ("ner", "tok2vec")]
        if "tok2vec" in nlp.pipe_names and not _listens(nlp):
            disable.append("tok2vec")
        # One BLAS thread: the model's matrices are small, and a second thread waiting for a
        # core made the NER pass 1.5-2x slower on this shared 2-core machine (bench
        # pii_distinct); a second core is used by a helper process (`n_process`) instead.
        with threadpool_limits(1, user_api="blas"):
            docs = nlp.pipe(texts, batch_size=self.config.batch_size, disable=disable)
            return [
                self.person.results_from_doc(doc, text)
                for text, doc in zip(texts, docs, strict=True)
            ]

    def _keyed_spans_here(self, keys: list[str]) -> list[list[tuple[int, int, int]]]:
        """NER spans of language-keyed sentences (`lang` + US + sentence; English unkeyed),
        each language through its own model, in this process."""
        groups: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            groups.setdefault(k.split(_LANG_SEP, 1)[0] if _LANG_SEP in k else "en", []).append(i)
        out: list[list[tuple[int, int, int]]] = [[] for _ in keys]
        for language, idx in groups.items():
            pieces = [keys[i] if language == "en" else keys[i].split(_LANG_SEP, 1)[1] for i in idx]
            for i, sp in zip(idx, self._person_spans_here(pieces, language), strict=True):
                out[i] = sp
        return out

    def _spans_by_language(
        self, keys: list[str], n_process: int | str | None
    ) -> list[list[tuple[int, int, int]]]:
        """`_keyed_spans_here`, shared with the helper processes when they are worth it."""
        if self.nlp is None or not keys:
            return [[] for _ in keys]
        procs = self._n_process(len(keys), n_process)
        self.stats.n_process = procs
        if procs == 1:
            return self._keyed_spans_here(keys)
        # Other languages at the back of the batch, where the helpers start: one of them
        # loads their model while this process reads English from the front.
        order = sorted(range(len(keys)), key=lambda i: _LANG_SEP in keys[i])
        # Helpers send back only (start, end) pairs; spaCy's own n_process ships every Doc
        # back through a pipe, which costs about as much as the NER it parallelises.
        spans = self._shared(
            self._keyed_spans_here, _spans_in_worker, [keys[i] for i in order], procs
        )
        out: list[list[tuple[int, int, int]]] = [[] for _ in keys]
        for i, sp in zip(order, spans, strict=True):
            out[i] = sp
        return out

    def _cached_pattern_findings(
        self, texts: list[str], n_process: int | str | None
    ) -> list[list[Finding]]:
        """Pattern findings per text, remembered across `scan` calls: the residual scan sees
        again every text the redaction left unchanged."""

        def here(texts: list[str]) -> list[list[Finding]]:
            return [self.pattern_findings(t) for t in texts]

        def compute(misses: list[str]) -> list[list[Finding]]:
            procs = self._n_process(len(misses), n_process)
            if procs == 1:
                return here(misses)
            # Chunks of 400: a pattern chunk is quick, and each trip to a helper costs ~20 ms.
            return self._shared(here, _patterns_in_worker, misses, procs, min_chunk=400)

        return _through_cache(self._pattern_cache, PATTERN_CACHE_TEXTS, texts, compute)[0]

    def _helpers(self, n: int):
        """The helper processes, started without waiting for them (they load the model)."""
        if self._workers is None or self._workers_n != n:
            self.close()
            if fork_is_safe():  # the helper starts with this scanner's models in memory
                self._workers = mp.get_context("fork").Pool(
                    n, initializer=_adopt_scanner, initargs=(self,)
                )
            else:  # a thread here (Dagster's, DuckDB's) may hold a lock: a new interpreter
                self._workers = mp.get_context("spawn").Pool(
                    n, initializer=_start_worker, initargs=(self.config.model_dump_json(),)
                )
            self._workers_n = n
        return self._workers

    def _shared(
        self, here: Callable, there: Callable, items: list[str], procs: int, min_chunk: int = 100
    ) -> list:
        """`here` over `items` in this process, from the front of the batch, while `procs - 1`
        helper processes run `there` on chunks from the back; results in item order.

        A helper takes its first chunk only once its model is loaded, so starting one costs
        the batch nothing but the idle core's time. If helpers cannot start or fail, this
        process does their chunks.
        """
        # Small chunks near the minimum: the last one decides when both processes finish.
        chunk = max(min_chunk, -(-len(items) // (procs * 16)))
        todo = deque((i, items[i : i + chunk]) for i in range(0, len(items), chunk))
        done: dict[int, list] = {}
        lock = threading.Lock()
        try:
            pool = self._helpers(procs - 1)
        except (OSError, ValueError) as exc:
            log.warning("helper processes unavailable (%s); running in one process", exc)
            pool = None

        def take(back: bool) -> tuple[int, list[str]] | None:
            with lock:
                return (todo.pop() if back else todo.popleft()) if todo else None

        def feed() -> None:
            try:
                pool.apply(_worker_ready)
                while (job := take(back=True)) is not None:
                    try:
                        done[job[0]] = pool.apply(there, (job[1],))
                    except BaseException:
                        with lock:
                            todo.append(job)  # this process will do it
                        raise
            except Exception as exc:  # a helper that died or could not load its model
                # The type only: a message could quote the text the helper failed on.
                log.warning(
                    "helper process failed (%s); this process takes over", type(exc).__name__
                )

        feeders = [threading.Thread(target=feed, daemon=True) for _ in range(procs - 1)]
        if pool is not None:
            for t in feeders:
                t.start()
        with threadpool_limits(1, user_api="blas"):  # the helpers have the other cores
            while (job := take(back=False)) is not None:
                done[job[0]] = here(job[1])
            for t in feeders:
                if t.is_alive():
                    t.join()
            # A feeder that failed after this process ran out of work left its chunk behind.
            while (job := take(back=False)) is not None:
                done[job[0]] = here(job[1])
        return [r for i in sorted(done) for r in done[i]]

    def close(self) -> None:
        """Stop the worker processes (they also end with this process)."""
        if self._workers is not None:
            pool, self._workers = self._workers, None
            # Closed, not terminated: Pool.terminate stops helpers with SIGTERM and waits for
            # them, and a helper started by a process that ignores SIGTERM (a supervisor, a
            # test runner) inherits that and is waited for forever. Closing sends each idle
            # helper an end-of-work message; one that does not end in time is killed.
            pool.close()
            killed = False
            for process in list(getattr(pool, "_pool", [])):
                process.join(HELPER_STOP_S)
                if process.is_alive():
                    process.kill()
                    process.join()
                    killed = True
            if killed:
                free_read_lock(pool)
            pool.join()

    def _cached_person_spans(
        self, segs: list[str], n_process: int | str | None, stored: SpanStore | None = None
    ) -> list[list[tuple[int, int, int]]]:
        """NER spans per sentence, remembered across `scan` calls (one per month of a
        backfill): macros and signatures recur every month and are worth one NER pass.
        Sentences this process has not seen are looked up in `stored` (earlier audits)."""

        def compute(misses: list[str]) -> list[list[tuple[int, int, int]]]:
            if stored is None:
                return self._spans_by_language(misses, n_process)
            found = stored.lookup(misses)
            self.stats.distinct_segments_stored = len(found)
            todo = [s for s in misses if s not in found]
            spans = self._spans_by_language(todo, n_process)
            stored.remember(todo, spans)
            found.update(zip(todo, spans, strict=True))
            return [found[s] for s in misses]

        out, self.stats.distinct_segments_cached = _through_cache(
            self._ner_cache, NER_CACHE_SENTENCES, segs, compute
        )
        return out

    # -- scanning -------------------------------------------------------------------------------

    def _coordinated(self, text: str, found: list[Finding]) -> list[Finding]:
        """Names listed with a name the model found ("Lamovec and Morales", "Šušulić, Bowman
        and White"): the model often tags one of the list and not its neighbour."""
        out = list(found)
        taken = {(f.start, f.end) for f in found}
        for f in found:
            if f.entity_type != "PERSON":
                continue
            for m in (
                _COORD_AFTER.match(text, f.end),
                _COORD_BEFORE.search(text, max(0, f.start - 40), f.start),
            ):
                if m is None:
                    continue
                span = self.person.accept(text, *m.span("name"))
                if span and not any(a < span[1] and span[0] < b for a, b in taken):
                    taken.add(span)
                    out.append(Finding(*span, "PERSON", f.score, f.recognizer))
        return out

    def pattern_findings(self, text: str) -> list[Finding]:
        lowered = text.lower()
        out: list[Finding] = []
        for recognizer in self.patterns:
            out.extend(recognizer.find(text, lowered))
        return out

    def _ner_placements(
        self, distinct: list[str], languages: list[str], cache: bool
    ) -> tuple[list[str], list[tuple[int, int, int, Subs]]]:
        """The language-keyed pieces the NER pass reads (each distinct piece once when
        caching), and where each lies: (text no, offset, piece no, placeholder substitutions).
        Counts `segments` and `distinct_segments` in the stats."""
        stats = self.stats
        seg_index: dict[str, int] = {}
        seg_list: list[str] = []
        placements: list[tuple[int, int, int, Subs]] = []
        for i, t in enumerate(distinct):
            language = languages[i]
            # English NER only on English text: on German it finds "Vielen Dank".
            if not self.ner_model(language):
                continue
            prefix = "" if language == "en" else language + _LANG_SEP
            stop_words = self._stop_words(language)
            for sentence_at, sentence in segments(t):
                for a, b in self._ner_pieces(sentence, language, stop_words):
                    offset, seg = sentence_at + a, sentence[a:b]
                    stats.segments += 1
                    subs: Subs = ()
                    if cache:
                        seg, subs = collapse_placeholders(seg)
                        k = seg_index.get(prefix + seg)
                        if k is None:
                            k = seg_index[prefix + seg] = len(seg_list)
                            seg_list.append(prefix + seg)
                    else:
                        k = len(seg_list)
                        seg_list.append(prefix + seg)
                    placements.append((i, offset, k, subs))
        stats.distinct_segments = len(seg_list)
        return seg_list, placements

    def _person_findings(
        self,
        distinct: list[str],
        placements: list[tuple[int, int, int, Subs]],
        spans: list[list[tuple[int, int, int]]],
    ) -> list[list[Finding]]:
        """The NER spans of each piece placed back in its text, then made consistent
        (`consistent`, coordinated names, places that are not)."""
        out: list[list[Finding]] = [[] for _ in distinct]
        name = self.person.name
        kinds = self.person.ENTITIES
        for i, offset, k, subs in placements:
            for s, e, kind in spans[k]:
                if subs:
                    s, e = to_original(s, e, subs)
                out[i].append(
                    Finding(offset + s, offset + e, kinds[kind], self.person.score_of(kind), name)
                )
        for i, found in enumerate(out):
            if found:
                found = self.person.consistent(distinct[i], found)
                found = self._coordinated(distinct[i], found)
                out[i] = drop_non_places(distinct[i], found)
        return out

    def scan(
        self,
        texts: Sequence[str | None],
        *,
        threshold: float | None = None,
        n_process: int | str | None = None,
        progress: Callable[[str], None] | None = None,
        stored: SpanStore | None = None,
        patterns_only: bool = False,
    ) -> list[list[Finding]]:
        """Findings per text (sorted, disjoint, at or above the threshold). With `stored`
        (and caching on), NER results of earlier audits are reused and new ones kept.
        `patterns_only`: no NER (labels and tags: too short for a model to read)."""
        threshold = self.config.score_threshold if threshold is None else threshold
        cache = self.config.cache_segments
        stats = self.stats = ScanStats(texts=len(texts))
        mark = self._cpu_mark
        if mark is None or time.perf_counter() - mark.wall > MAX_SAMPLE_S:
            self._cpu_mark = CpuMark.now()  # a stale mark would average over minutes

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

        masked = [self.masked.find(t) for t in distinct]

        # Patterns first: they run whatever the language, and a fresh process's language
        # model is still loading on its thread meanwhile.
        t0 = time.perf_counter()
        if cache:
            collapsed = [collapse_placeholders(t) for t in distinct]
            found = self._cached_pattern_findings([c for c, _ in collapsed], n_process)
            pattern_results = [
                _remap(fs, subs) for fs, (_, subs) in zip(found, collapsed, strict=True)
            ]
        else:
            pattern_results = [self.pattern_findings(t) for t in distinct]
        stats.pattern_seconds = time.perf_counter() - t0
        languages = [
            self.config.default_language if patterns_only else self.language.detect(t)
            for t in distinct
        ]

        person_results: list[list[Finding]] = [[] for _ in distinct]
        if self.nlp is not None and not patterns_only and distinct:
            seg_list, placements = self._ner_placements(distinct, languages, cache)
            if progress:
                progress(
                    f"PII scan: {len(distinct):,} distinct of {len(texts):,} texts, NER on "
                    f"{len(seg_list):,} distinct of {stats.segments:,} sentences"
                )
            t0 = time.perf_counter()
            if cache:
                spans = self._cached_person_spans(seg_list, n_process, stored)
            else:
                spans = self._spans_by_language(seg_list, n_process)
            stats.ner_seconds = time.perf_counter() - t0
            person_results = self._person_findings(distinct, placements, spans)

        results: list[list[Finding]] = []
        for t, pats, persons, held in zip(
            distinct, pattern_results, person_results, masked, strict=True
        ):
            found = [f for f in pats + persons if f.score >= threshold]
            found = self.allow.filter(t, found)
            found = MaskedPlaceholders.drop_overlapping(found, held)
            results.append(resolve_overlaps(split_addresses(t, found)))

        if cache:
            where = [index[t] if t else None for t in texts]
        else:
            counter = iter(range(len(distinct)))
            where = [next(counter) if t else None for t in texts]
        self.text_languages = [languages[w] if w is not None else None for w in where]
        self.text_masked = [masked[w] if w is not None else [] for w in where]
        return [results[w] if w is not None else [] for w in where]

    def scan_one(self, text: str, threshold: float | None = None) -> list[Finding]:
        return self.scan([text], threshold=threshold, n_process=1)[0]


def strip_placeholders(text: str, findings: list[Finding]) -> list[Finding]:
    """Drop findings that lie inside a redaction placeholder (`<EMAIL_1f3a9c2b>`)."""
    if "<" not in text:
        return findings
    spans = [m.span() for m in _PLACEHOLDER.finditer(text)]
    return [f for f in findings if not any(s <= f.start and f.end <= e for s, e in spans)]
