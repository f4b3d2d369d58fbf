"""Redaction with Presidio's AnonymizerEngine, one operator per entity type from config.

The default operator is a consistent pseudonym: `<EMAIL_1f3a9c2b>` is the keyed hash of the
normalised value, so the same address becomes the same placeholder in every ticket and every
run with the same key. Retrieval over redacted tickets and duplicate detection keep working,
and nothing in the placeholder can be turned back into the value without the key.
"""

from __future__ import annotations

from collections.abc import Sequence

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from ticket_audit.config.pii import Operator, PiiSection
from ticket_audit.pii.hashing import KeyedHasher
from ticket_audit.pii.recognizers import Finding


class Redactor:
    def __init__(self, config: PiiSection, hasher: KeyedHasher) -> None:
        self.config = config
        self.hasher = hasher
        self.engine = AnonymizerEngine()
        self._operators: dict[str, OperatorConfig] = {}

    def _operator_config(self, entity_type: str, op: Operator) -> OperatorConfig:
        if op.type == "pseudonym":
            digits = self.config.pseudonym_digits
            return OperatorConfig(
                "custom", {"lambda": lambda v: self.hasher.pseudonym(entity_type, v, digits)}
            )
        if op.type == "hash":
            return OperatorConfig(
                "custom", {"lambda": lambda v: self.hasher.value_hash(entity_type, v)}
            )
        if op.type == "replace":
            return OperatorConfig("replace", {"new_value": op.new_value or f"<{entity_type}>"})
        if op.type == "mask":
            return OperatorConfig(
                "mask",
                {
                    "masking_char": op.masking_char,
                    "chars_to_mask": op.chars_to_mask,
                    "from_end": op.from_end,
                },
            )
        if op.type == "redact":
            return OperatorConfig("redact", {})
        return OperatorConfig("keep", {})

    def operators(self, entity_types: set[str]) -> dict[str, OperatorConfig]:
        for t in entity_types:
            if t not in self._operators:
                self._operators[t] = self._operator_config(t, self.config.operator_for(t))
        return {t: self._operators[t] for t in entity_types}

    def redact(self, text: str | None, findings: Sequence[Finding]) -> str | None:
        if not text or not findings:
            return text
        results = [RecognizerResult(f.entity_type, f.start, f.end, f.score) for f in findings]
        ops = self.operators({f.entity_type for f in findings})
        return self.engine.anonymize(text, results, ops).text
