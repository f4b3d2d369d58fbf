"""The language each text is written in, so each language gets the detectors it can use.

py3langid (a naive-Bayes model over byte n-grams, shipped inside its wheel, ~45,000 short
texts/s on one core here) restricted to the configured languages. Short or uncertain texts
(a category label, "Thanks!") count as the default language: too little text to tell, and
the pattern recognizers run whatever the language.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from py3langid.langid import LanguageIdentifier

from ticket_audit.pii.langid_model import read_model

# Fewer letters than this, or a probability below MIN_PROBABILITY: the default language.
MIN_LETTERS = 20
MIN_PROBABILITY = 0.6


_LETTERS = re.compile(r"[^\W\d_]+")


def _enough_letters(text: str) -> bool:
    """At least MIN_LETTERS letters in the first 400 characters (counting stops there: a
    per-character count was a fifth of the detector's time)."""
    n = 0
    for m in _LETTERS.finditer(text, 0, 400):
        n += m.end() - m.start()
        if n >= MIN_LETTERS:
            return True
    return False


def _identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    ident = read_model()
    known = set(ident.nb_classes)
    ident.set_languages([c for c in languages if c in known] or None)
    return ident


class _ModelLoading:
    """py3langid's model for `languages`, read on a thread of its own while the spaCy model
    loads: 0.05 s from the decompressed copy (`langid_model`), 0.5 s when that copy is
    being made (decompression, which releases the GIL, so an idle core does it).

    A plain thread rather than an executor: in a process forked while it ran (or after it
    finished), an executor would believe its worker alive and never run the load; the
    parent's thread is not alive in the child, so `result` loads here instead."""

    def __init__(self, languages: tuple[str, ...]) -> None:
        self._languages = languages
        self._ident: LanguageIdentifier | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._load, name="py3langid-model", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        try:
            self._ident = _identifier(self._languages)
        except BaseException as exc:  # raised again by `result`, in the caller's thread
            self._error = exc

    def result(self) -> LanguageIdentifier:
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._ident is None:  # loaded in a parent process before a fork
            self._ident = _identifier(self._languages)
        return self._ident


@lru_cache(maxsize=8)
def _identifier_loading(languages: tuple[str, ...]) -> _ModelLoading:
    return _ModelLoading(languages)


class LanguageDetector:
    def __init__(self, languages: list[str], default: str) -> None:
        self.default = default
        self.languages = tuple(languages)
        self._loading = _identifier_loading(self.languages) if len(self.languages) > 1 else None
        self._ident: LanguageIdentifier | None = None

    def detect(self, text: str | None) -> str:
        if self._loading is None or not text:
            return self.default
        if not _enough_letters(text):
            return self.default
        if self._ident is None:
            self._ident = self._loading.result()  # a failed load raises here
        # The start of a long text is enough to tell its language and keeps this cheap.
        lang, prob = self._ident.classify(text[:1000])
        return lang if prob >= MIN_PROBABILITY else self.default


def detectors_for(config, language: str) -> list[str]:
    """What runs on a free text in `language` (`config`: the `pii` section): patterns
    always, the name cues when PERSON is on, a NER model where one is configured."""
    out = ["patterns"]
    if "PERSON" in config.entities:
        out.append("name cues")
    model = config.spacy_model if language == "en" else config.spacy_models.get(language)
    if model and {"PERSON", "LOCATION"} & set(config.entities):
        out.append(f"NER {model}")
    return out
