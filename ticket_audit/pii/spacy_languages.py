"""spaCy's language classes and models without the 2-second French rule compile.

spaCy's French tokenizer matches hyphenated and elided words ("peut-être", "entr'ouvrir")
with one regular expression of 266 alternatives (`spacy.lang.fr.tokenizer_exceptions`),
each spelling out the same 3,000-character letter class: 1.45 MB of pattern that Python's
`re` compiles in about 2 s of CPU, once at the import of spaCy's French module and again
(from its cache) when a French model's tokenizer is read from disk. That was half of a
fresh process's cost before its first text (bench `pii_distinct --fresh-process`).

Written with the letter class once per group of alternatives that share it, the same
expression compiles in about 0.1 s and matches exactly the same strings (tested against
spaCy's own on every prefix, combination and exception of the module). While
`fast_french_rules()` is active, a `re.compile` of that exact pattern returns the grouped
one, compiled at its first use (`_LazyPattern`); any other pattern, or a spaCy whose French
rules no longer join the same way, compiles as usual (slow but never wrong).
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import spacy

FRENCH_RULES_MODULE = "spacy.lang.fr.tokenizer_exceptions"
# Far above any other pattern spaCy compiles (its largest, the French infixes, is 18 kB).
_LARGE_PATTERN = 100_000

_lock = threading.RLock()
_grouped: dict[str, _LazyPattern] = {}
_compile = re.compile  # the real one, whatever `fast_french_rules` does to `re.compile`


class _LazyMatch:
    """`pattern.match` of a pattern compiled at the first call, not before. spaCy's French
    module takes `re.compile(rules).match` at its import, and a process that imports it
    only for the stop words (to choose which French sentences the model reads) would
    compile for nothing; the one that tokenizes French (a helper, often) compiles. Behaves
    as the bound method spaCy expects: called with a string, and `__self__` the pattern
    (spaCy's tokenizer serialises `token_match.__self__.pattern`)."""

    def __init__(self, owner: _LazyPattern) -> None:
        self._owner = owner

    def __call__(self, string: str, *args: int) -> re.Match[str] | None:
        return self._owner.compiled().match(string, *args)

    @property
    def __self__(self) -> re.Pattern[str]:
        return self._owner.compiled()

    def __reduce__(self):
        return (_lazy_match, (self._owner.source,))


class _LazyPattern:
    """The grouped rules' pattern, compiled at its first use."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._pattern: re.Pattern[str] | None = None
        self.match = _LazyMatch(self)

    def compiled(self) -> re.Pattern[str]:
        if self._pattern is None:
            with _lock:
                if self._pattern is None:
                    self._pattern = _compile(self.source)
        return self._pattern

    def __getattr__(self, name: str):  # search, fullmatch, pattern, flags, ...
        return getattr(self.compiled(), name)


def _lazy_match(source: str) -> _LazyMatch:
    """Unpickling: the same rules, compiled at their first use in that process."""
    return _LazyPattern(source).match


def _joined(parts: list[str]) -> str:
    """How spaCy joins its French rules into one pattern (tokenizer_exceptions.TOKEN_MATCH)."""
    return "(?iu)" + "|".join(f"(?:{p})" for p in parts)


def _big_classes() -> tuple[str, ...]:
    from spacy.lang.char_classes import ALPHA, ALPHA_LOWER

    return ("[" + ALPHA_LOWER, "[" + ALPHA, "[-–—‐‑" + ALPHA_LOWER)


def grouped_rules(parts: list[str]) -> str:
    """The alternatives `^<head><tail>` regrouped as `^(?:<head1>|<head2>…)<tail>` where the
    tail starts at the first big letter class; rules that open with one stay as they are.
    The same strings match: alternation distributes over concatenation, every rule is
    anchored at both ends, and the `(?iu)` flags are kept."""
    starts = _big_classes()
    heads: dict[str, list[str] | None] = {}
    for rule in parts:
        at = min((i for i in (rule.find(s) for s in starts) if i > 0), default=-1)
        if not rule.startswith("^") or at <= 1:
            heads[rule] = None  # kept whole
            continue
        heads.setdefault(rule[at:], []).append(rule[1:at])
    alternatives = [
        tail if hs is None else "^(?:" + "|".join(hs) + ")" + tail for tail, hs in heads.items()
    ]
    return _joined(alternatives)


def _french_parts(pattern: str) -> list[str] | None:
    """spaCy's French rules when `pattern` is their joined form, else None. The module is in
    `sys.modules` with its rules defined both while it runs (its last line compiles them)
    and after its import."""
    module = sys.modules.get(FRENCH_RULES_MODULE)
    parts = getattr(module, "_regular_exp", None)
    if isinstance(parts, list) and _joined(parts) == pattern:
        return parts
    return None


@contextmanager
def fast_french_rules() -> Iterator[None]:
    """`re.compile` of spaCy's French token rules gives the grouped, equivalent pattern for
    the duration; everything else compiles as usual."""
    with _lock:
        real = re.compile

        def compile_(pattern, flags=0):
            if isinstance(pattern, str) and len(pattern) > _LARGE_PATTERN and flags == 0:
                done = _grouped.get(pattern)
                if done is not None:
                    return done
                parts = _french_parts(pattern)
                if parts is not None:
                    done = _grouped[pattern] = _LazyPattern(grouped_rules(parts))
                    return done
            return real(pattern, flags)

        re.compile = compile_
        try:
            yield
        finally:
            re.compile = real


def lang_class(language: str) -> type[spacy.language.Language]:
    """spaCy's class for `language` (its defaults: stop words, tokenizer rules)."""
    with fast_french_rules():
        return spacy.util.get_lang_class(language)
