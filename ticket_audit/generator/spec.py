"""What to generate: size, time span and the defect rates to plant."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

# Defects the generator can plant. Each rate is the exact share of tickets that carry it
# (chosen without replacement), so a test can expect the audit to report that share.
DEFECTS: dict[str, str] = {
    "missing_category": "category left empty",
    "wrong_category": "category replaced by another valid category (label noise)",
    "catch_all_category": "category set to the catch-all 'Other'",
    "unknown_category": "category not in the taxonomy (typo or retired label)",
    "subcategory_mismatch": "subcategory belongs to a different category",
    "missing_priority": "priority left empty",
    "invalid_priority": "priority outside the configured values",
    "missing_channel": "channel left empty",
    "missing_team": "team left empty",
    "missing_product": "product left empty",
    "resolved_before_created": "resolved_at earlier than created_at",
    "first_response_after_resolution": "first_response_at later than resolved_at",
    "future_created_at": "created_at after the export date",
    "invalid_timestamp": "created_at unparseable (the row must be quarantined)",
    "template_leftover": "unfilled template token such as {customer_name} in the text",
    "html_debris": "HTML tags or entities left in the description",
    "empty_description": "description empty",
    "exact_duplicate": "copy of an earlier ticket with a new id",
    "near_duplicate_conflict": "near copy of an earlier ticket carrying another category",
    "pii": "fake personal data planted in subject, description or messages",
}


class GeneratorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tickets: int = Field(default=5_000, gt=0)
    months: int = Field(default=12, gt=0)
    # Last month of the history; the export date is the first day after it.
    end_month: date = date(2026, 10, 1)
    seed: int = 7
    format: str = Field(default="csv", pattern="^(csv|jsonl|parquet)$")
    # Write a separate messages file with the whole conversation of each ticket.
    messages: bool = True
    rates: dict[str, float] = Field(
        default_factory=lambda: {
            "missing_category": 0.12,
            "wrong_category": 0.05,
            "catch_all_category": 0.06,
            "unknown_category": 0.02,
            "subcategory_mismatch": 0.03,
            "missing_priority": 0.04,
            "invalid_priority": 0.01,
            "missing_channel": 0.03,
            "missing_team": 0.08,
            "missing_product": 0.05,
            "resolved_before_created": 0.02,
            "first_response_after_resolution": 0.02,
            "future_created_at": 0.005,
            "invalid_timestamp": 0.01,
            "template_leftover": 0.04,
            "html_debris": 0.03,
            "empty_description": 0.01,
            "exact_duplicate": 0.03,
            "near_duplicate_conflict": 0.02,
            "pii": 0.35,
        }
    )

    @property
    def start_month(self) -> date:
        """First month of the history (`months` months ending with `end_month`)."""
        y, m = self.end_month.year, self.end_month.month - (self.months - 1)
        while m <= 0:
            y, m = y - 1, m + 12
        return date(y, m, 1)

    def rate(self, defect: str) -> float:
        return float(self.rates.get(defect, 0.0))

    def model_post_init(self, _context: object) -> None:
        unknown = sorted(set(self.rates) - set(DEFECTS))
        if unknown:
            raise ValueError(f"rates: unknown defect(s) {unknown}; known: {sorted(DEFECTS)}")
        bad = {k: v for k, v in self.rates.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"rates: must be within [0, 1], got {bad}")
