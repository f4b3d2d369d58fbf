"""Pattern recognizers that run both inside Presidio and in the fast scanner.

A recognizer declares its patterns and context words as class constants, like Presidio's
predefined recognizers. It is a real `PatternRecognizer`, so an `AnalyzerEngine` can use it
(the benchmark and the default-versus-ours comparison do), and it exposes `find()`, which
the fast scanner calls directly: the same regexes and validation, with context handled by a
look at the characters before the match instead of spaCy lemmas.
"""

from __future__ import annotations

import re
from typing import ClassVar, NamedTuple

from presidio_analyzer import AnalysisExplanation, Pattern, PatternRecognizer, RecognizerResult

from ticket_audit.entity_types import ENTITY_TYPES


class Finding(NamedTuple):
    start: int
    end: int
    entity_type: str
    score: float
    recognizer: str


# Presidio's LemmaContextAwareEnhancer defaults: a context word adds 0.35 and lifts the score
# to at least 0.4. The fast path uses the same numbers so both engines agree on thresholds.
CONTEXT_BOOST = 0.35
MIN_SCORE_WITH_CONTEXT = 0.4


def context_regex(words: list[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alternation})(?![a-z0-9])", re.IGNORECASE)


class _DeclaredPattern(Pattern):
    """Presidio's `Pattern`, without its check that compiles the regex with the `regex`
    module and throws the result away: 225 such compiles were 0.4 s of every process start.
    These recognizers match with their own `re`-compiled patterns (`analyze` below, never
    Presidio's matcher), and that compile is the check: a bad regex still fails at
    construction."""

    def __init__(self, name: str, regex: str, score: float) -> None:
        if not 0 <= score <= 1:
            raise ValueError(f"pattern {name!r}: score {score} is not between 0 and 1")
        self.name = name
        self.regex = regex
        self.score = score
        self.compiled_regex = None
        self.compiled_with_flags = None


class TicketPatternRecognizer(PatternRecognizer):
    """Base class: `PATTERNS` are (name, regex, score[, words]); a named group `value` marks
    the span; a pattern with words only runs on texts holding one of them (lower-case)."""

    ENTITY: ClassVar[str] = ""
    PATTERNS: ClassVar[list[tuple]] = []
    CONTEXT: ClassVar[list[str]] = []
    FLAGS: ClassVar[int] = 0
    # Characters before a match searched for context words (about five words, as Presidio).
    CONTEXT_WINDOW: ClassVar[int] = 40
    # Characters after a match searched too (0: Presidio's default of no suffix context).
    CONTEXT_AFTER: ClassVar[int] = 0
    # Cheap tests a text must pass before any pattern runs (most texts hold no digits, no
    # '@', no "password"): a regex, and/or lower-case words of which one must occur (plain
    # substring tests, far cheaper than a case-insensitive regex alternation). Either passes.
    TRIGGER: ClassVar[str | None] = None
    TRIGGER_WORDS: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        # The entity catalogue is the one list of entity types; a recognizer only names its
        # entry (deny-list recognizers take a configured type at construction instead).
        super().__init_subclass__(**kwargs)
        if cls.ENTITY and cls.ENTITY not in ENTITY_TYPES:
            raise TypeError(f"{cls.__name__}.ENTITY {cls.ENTITY!r} is not in pii.entities")

    def __init__(
        self,
        patterns: list[tuple] | None = None,
        context: list[str] | None = None,
        entity: str | None = None,
        name: str | None = None,
    ) -> None:
        specs = list(patterns if patterns is not None else self.PATTERNS)
        words = list(context if context is not None else self.CONTEXT)
        super().__init__(
            supported_entity=entity or self.ENTITY,
            name=name or type(self).__name__,
            patterns=[_DeclaredPattern(spec[0], spec[1], spec[2]) for spec in specs],
            context=words,
            global_regex_flags=self.FLAGS,
        )
        self.entity = entity or self.ENTITY
        self._compiled = [
            (
                spec[0],
                re.compile(spec[1], self.FLAGS),
                spec[2],
                tuple(spec[3]) if len(spec) > 3 else (),
            )
            for spec in specs
        ]
        self._context_re = context_regex(words)
        self._trigger = re.compile(self.TRIGGER) if self.TRIGGER else None

    # -- hooks for subclasses -----------------------------------------------------------------

    def validate_value(self, value: str) -> bool | None:
        """True: certainly this entity (score 1.0); False: not it; None: keep the pattern score."""
        return None

    def invalidate_match(self, text: str, start: int, end: int) -> bool:
        """Reject a match because of what surrounds it (e.g. a version number's 'v')."""
        return False

    # -- matching -------------------------------------------------------------------------------

    def triggered(self, text: str, lowered: str) -> bool:
        if self.TRIGGER_WORDS and any(w in lowered for w in self.TRIGGER_WORDS):
            return True
        if self._trigger is not None:
            return self._trigger.search(text) is not None
        return not self.TRIGGER_WORDS

    def raw_matches(
        self, text: str, lowered: str | None = None
    ) -> list[tuple[int, int, float, str]]:
        """(start, end, score, pattern name) before context; one result per span (best score).

        `lowered` is `text.lower()`, computed once per text by the scanner."""
        lowered = text.lower() if lowered is None else lowered
        if not self.triggered(text, lowered):
            return []
        best: dict[tuple[int, int], tuple[float, str]] = {}
        for name, rx, score, words in self._compiled:
            if words and not any(w in lowered for w in words):
                continue
            has_group = "value" in rx.groupindex
            for m in rx.finditer(text):
                start, end = m.span("value") if has_group else m.span()
                if start < 0 or start == end:
                    continue
                verdict = self.validate_value(text[start:end])
                if verdict is False or self.invalidate_match(text, start, end):
                    continue
                s = 1.0 if verdict else score
                if s > best.get((start, end), (-1.0, ""))[0]:
                    best[(start, end)] = (s, name)
        return [(s, e, sc, n) for (s, e), (sc, n) in best.items()]

    def has_context(self, text: str, start: int, end: int) -> bool:
        if self._context_re is None:
            return False
        if self._context_re.search(text, max(0, start - self.CONTEXT_WINDOW), start):
            return True
        return bool(self.CONTEXT_AFTER) and (
            self._context_re.search(text, end, end + self.CONTEXT_AFTER) is not None
        )

    def find(self, text: str, lowered: str | None = None) -> list[Finding]:
        """The fast path: matches with the context boost applied."""
        out = []
        for start, end, score, _ in self.raw_matches(text, lowered):
            if score < 1.0 and self.has_context(text, start, end):
                score = max(MIN_SCORE_WITH_CONTEXT, min(1.0, score + CONTEXT_BOOST))
            out.append(Finding(start, end, self.entity, score, self.name))
        return out

    # -- Presidio interface ---------------------------------------------------------------------

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # noqa: D102
        # Presidio's own matcher ignores named groups and compiles with its global flags; the
        # recognizer's regexes and validation are used instead so both engines match alike.
        # Presidio's context enhancer then scores the results from `self.context`.
        results = []
        for start, end, score, pattern_name in self.raw_matches(text):
            results.append(
                RecognizerResult(
                    entity_type=self.entity,
                    start=start,
                    end=end,
                    score=score,
                    analysis_explanation=AnalysisExplanation(
                        recognizer=self.name, original_score=score, pattern_name=pattern_name
                    ),
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
        return results


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0
