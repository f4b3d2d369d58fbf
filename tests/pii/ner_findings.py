"""Findings as the NER pass would give them, written as (type, value) pairs in text order."""

from __future__ import annotations

from ticket_audit.pii.recognizers import Finding


def ner_findings(text: str, found: list[tuple[str, str]]) -> list[Finding]:
    """Each value at its next occurrence in `text`, scored as the model's spans (0.6)."""
    findings, pos = [], 0
    for kind, value in found:
        start = text.index(value, pos)
        pos = start + 1
        findings.append(Finding(start, start + len(value), kind, 0.6, "ner"))
    return findings
