"""Known internal identifiers (configured regexes), always reported with full confidence."""

from __future__ import annotations

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer


class TicketDenyListRecognizer(TicketPatternRecognizer):
    SCORE = 1.0

    def __init__(self, entity: str, patterns: list[str]) -> None:
        super().__init__(
            patterns=[(f"deny list {i}", p, self.SCORE) for i, p in enumerate(patterns)],
            context=[],
            entity=entity,
            name=f"TicketDenyListRecognizer[{entity}]",
        )
