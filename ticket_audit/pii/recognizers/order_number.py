"""Order numbers, only in the formats a source configures (`pii.order_number_patterns`):
order references identify a purchase, and through it a customer, but their shape is local."""

from __future__ import annotations

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer


class TicketOrderNumberRecognizer(TicketPatternRecognizer):
    ENTITY = "ORDER_NUMBER"
    CONTEXT = ["order", "purchase", "invoice", "reference"]
    CONFIGURED_SCORE = 0.85

    def __init__(self, configured: list[str], **kwargs) -> None:
        patterns = [(f"configured {i}", p, self.CONFIGURED_SCORE) for i, p in enumerate(configured)]
        super().__init__(patterns=patterns, **kwargs)
