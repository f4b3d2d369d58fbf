"""Settings of the quality layer (definitions in docs/quality.md)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ticket_audit.config.mapping import Strict

# Patterns must mean the same in GX over pandas (RE2 through pyarrow, Python `re` as a
# fallback) and in DuckDB (RE2): so no \s, \b, \w, \d, `$`, lookaround or backreferences
# (these also push pandas onto its slow Python path). Spell classes out instead, use
# non-capturing groups (?:...), and (?:^|\n) rather than (?m)^ with bounded repeats: RE2
# runs those several times slower.
#
# Unfilled merge fields of the usual template engines: {name}, {{ name }}, [FIRST_NAME],
# %CUSTOMER_NAME%. Bracket and percent forms need an underscore so "[URGENT]" is not a token.
DEFAULT_TEMPLATE_TOKEN_PATTERNS = [
    r"\{\{?[ \t]*[A-Za-z_][A-Za-z0-9_.]*[ \t]*\}\}?",
    r"\[[A-Z][A-Z0-9]*_[A-Z0-9_]+\]",
    r"%[A-Z][A-Z0-9]*_[A-Z0-9_]+%",
]
DEFAULT_HTML_PATTERNS = [
    r"(?i)</?(?:div|p|br|span|table|tr|td|th|tbody|ul|ol|li|a|b|i|u|em|strong|font|img|html"
    r"|body|head|style|script|blockquote|hr|h[1-6])(?:[ \t\n/][^>]*)?>",
    r"(?i)&(?:nbsp|amp|lt|gt|quot|apos|#[0-9]{2,5}|#x[0-9a-f]{2,4});",
]
# A previous message pasted below the new one ("On Mon, ... wrote:", "> quoted" lines,
# Outlook's "-----Original Message-----").
DEFAULT_QUOTED_REPLY_PATTERNS = [
    r"(?i)(?:^|\n)[ \t]*on [^\n]*wrote:",
    r"(?:^|\n)>",
    r"(?i)-{2,}[ \t]*original message[ \t]*-{2,}",
    r"(?i)(?:^|\n)from: [^\n]+\n[ \t]*sent: ",
]
DEFAULT_SIGNATURE_PATTERNS = [
    r"(?:^|\n)-- ?\n",
    r"(?i)sent from my (?:iphone|ipad|android|samsung|mobile|phone|galaxy)",
]
_NOT_PORTABLE = re.compile(r"\\[sSbBwWdD1-9]|\(\?<?[=!]|\$")


class LabelIssueSettings(Strict):
    # Out-of-fold predictions: every ticket is scored by a model that never saw it.
    cv_folds: int = Field(default=3, ge=2, le=10)
    # Categories with fewer labelled tickets are not modelled (reported as rare instead).
    min_class_tickets: int = Field(default=20, gt=1)
    # Hashed unigram + bigram vocabulary size of the naive Bayes model (a power of two).
    hash_features: int = Field(default=2**20, ge=2**10, le=2**24)
    # Implausible labels are only flagged when the text predicts the label at all: skill =
    # (accuracy - chance) / (1 - chance), chance = always guessing the largest category.
    min_skill: float = Field(default=0.2, ge=0, le=1)
    # Additive (Lidstone) smoothing of the naive Bayes word probabilities.
    smoothing: float = Field(default=0.1, gt=0)
    seed: int = 13

    @field_validator("hash_features")
    @classmethod
    def _power_of_two(cls, v: int) -> int:
        if v & (v - 1):
            raise ValueError(f"must be a power of two, got {v}")
        return v


class QualitySection(Strict):
    # Jaccard similarity of word shingles above which two tickets count as near duplicates.
    near_duplicate_threshold: float = Field(default=0.8, ge=0, le=1)
    # "customer": duplicates must come from the same customer (a resubmitted or re-opened
    # request); tickets without customer_id are compared by text alone. "global": text alone.
    duplicate_scope: Literal["customer", "global"] = "customer"
    # Words per shingle for near-duplicate detection.
    shingle_words: int = Field(default=3, ge=1, le=8)
    minhash_permutations: int = Field(default=32, ge=4, le=256)
    lsh_bands: int = Field(default=8, ge=1)
    # LSH buckets larger than this are skipped (logged): boilerplate shared by thousands of
    # tickets would otherwise make the candidate pairs quadratic.
    max_bucket_size: int = Field(default=500, ge=2)
    # A category holding less than this share of tickets is reported as rare.
    rare_category_share: float = Field(default=0.01, ge=0, le=1)
    # The moment the export was taken: timestamps after it are "in the future". A date means
    # the end of that day (UTC). Unset: the time the checks run.
    as_of: datetime | date | None = None
    template_token_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TEMPLATE_TOKEN_PATTERNS)
    )
    html_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_HTML_PATTERNS))
    quoted_reply_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_QUOTED_REPLY_PATTERNS)
    )
    signature_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_SIGNATURE_PATTERNS))
    label_issues: LabelIssueSettings = Field(default_factory=LabelIssueSettings)
    # An agent reply body (greeting and sign-off removed) is "templated" when the same
    # normalised body makes up at least this share of all agent replies, and at least
    # `template_min_count` replies.
    template_min_share: float = Field(default=0.01, gt=0, le=1)
    template_min_count: int = Field(default=5, ge=2)
    # Per-category figures (reply variability by category) from fewer tickets or replies
    # than this are not shown on their own: they are counted as "below the minimum".
    min_category_sample: int = Field(default=20, ge=1)
    # Reply language is detected on a deterministic sample of about this many agent
    # replies (the language mix is a share; detecting it on every reply is the costly part).
    language_sample: int = Field(default=50_000, ge=1000)
    # Ticket ids listed per finding in the scorecard.
    worst_examples: int = Field(default=10, ge=0, le=1000)

    @field_validator("as_of", mode="before")
    @classmethod
    def _date_only_is_a_date(cls, v: object) -> object:
        # "2026-11-01" is a day (its end is the cut-off), not midnight at its start.
        if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.strip()):
            return date.fromisoformat(v.strip())
        return v

    def as_of_cutoff(self) -> datetime:
        """Latest timestamp that is not in the future (naive UTC, like canonical timestamps)."""
        if self.as_of is None:
            return datetime.now(UTC).replace(tzinfo=None)
        if isinstance(self.as_of, datetime):
            if self.as_of.tzinfo is not None:
                return self.as_of.astimezone(UTC).replace(tzinfo=None)
            return self.as_of
        return datetime.combine(self.as_of, time.max)

    @field_validator(
        "template_token_patterns", "html_patterns", "quoted_reply_patterns", "signature_patterns"
    )
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from None
            if _NOT_PORTABLE.search(pattern):
                raise ValueError(
                    f"pattern {pattern!r}: \\s, \\b, \\w, \\d, $, lookaround and backreferences "
                    "behave differently in GX (pandas) and DuckDB; spell the class out"
                )
        return v

    @model_validator(mode="after")
    def _bands_fit(self) -> QualitySection:
        if self.minhash_permutations % self.lsh_bands:
            raise ValueError(
                f"lsh_bands ({self.lsh_bands}) must divide minhash_permutations "
                f"({self.minhash_permutations})"
            )
        return self
