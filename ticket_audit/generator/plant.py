"""Plants defects at exact counts and records what was planted.

Rates are exact shares of all generated tickets (chosen without replacement among the tickets
a defect can apply to), so "40% missing categories" means exactly 40% of the rows written.
"""

from __future__ import annotations

import copy
import random
from datetime import timedelta

from ticket_audit.generator import pii_values as pv
from ticket_audit.generator import vocabulary as vocab
from ticket_audit.generator.history import (
    BAD_TIMESTAMPS,
    HTML_DEBRIS,
    PII_ENTITY_WEIGHTS,
    TEMPLATE_TOKENS,
    HistoryBuilder,
    Ticket,
    _weighted,
)
from ticket_audit.generator.spec import GeneratorSpec

UNKNOWN_CATEGORIES = ["Biling", "Shipping & Returns", "Acct", "Legacy Support", "tech"]


class Planter:
    def __init__(self, spec: GeneratorSpec, builder: HistoryBuilder):
        self.spec = spec
        self.rng: random.Random = builder.rng
        self.builder = builder
        self.n = spec.tickets

    def count(self, defect: str) -> int:
        return round(self.spec.rate(defect) * self.n)

    def choose(self, defect: str, eligible: list[Ticket], taken: set[int] | None = None):
        k = self.count(defect)
        pool = [t for t in eligible if taken is None or t.index not in taken]
        if k > len(pool):
            raise ValueError(
                f"rates.{defect}: {k} tickets requested but only {len(pool)} can carry it; "
                "lower the rate or the overlapping rates"
            )
        chosen = self.rng.sample(pool, k)
        for t in chosen:
            t.defects.add(defect)
        return chosen

    # -- duplicates ----------------------------------------------------------------------

    def copies(self, base: list[Ticket]) -> list[Ticket]:
        rng = self.rng
        out: list[Ticket] = []
        next_index = len(base)
        for defect in ("exact_duplicate", "near_duplicate_conflict"):
            for _ in range(self.count(defect)):
                original = rng.choice(base)
                dup = copy.copy(original)
                dup.index = next_index
                next_index += 1
                dup.defects = {defect}
                dup.tags = list(original.tags)
                dup.pii = []
                dup.duplicate_of = f"#{original.index}"
                shift = timedelta(minutes=rng.randint(5, 60 * 72))
                dup.created_at = original.created_at + shift
                dup.first_response_at = (
                    original.first_response_at and original.first_response_at + shift
                )
                dup.resolved_at = original.resolved_at and original.resolved_at + shift
                dup.updated_at = original.updated_at + shift
                if defect == "near_duplicate_conflict":
                    dup.description = original.description + " Please advise."
                    other = rng.choice([c for c in vocab.TAXONOMY if c != original.category])
                    dup.category = other
                    dup.subcategory = rng.choice(vocab.TAXONOMY[other])
                out.append(dup)
        return out

    # -- field defects ---------------------------------------------------------------------

    def plant_fields(self, tickets: list[Ticket]) -> None:
        rng = self.rng
        in_group = {t.index for t in tickets if t.duplicate_of} | {
            int(t.duplicate_of[1:]) for t in tickets if t.duplicate_of
        }
        not_near = [t for t in tickets if "near_duplicate_conflict" not in t.defects]

        taken: set[int] = set()
        for t in self.choose("missing_category", not_near, taken):
            t.category, t.subcategory = "", ""
            taken.add(t.index)
        for t in self.choose("wrong_category", not_near, taken):
            t.category = rng.choice([c for c in vocab.TAXONOMY if c != t.true_category])
            t.subcategory = rng.choice(vocab.TAXONOMY[t.category])
            taken.add(t.index)
        for t in self.choose("catch_all_category", not_near, taken):
            t.category, t.subcategory = vocab.CATCH_ALL, ""
            taken.add(t.index)
        for t in self.choose("unknown_category", not_near, taken):
            t.category = rng.choice(UNKNOWN_CATEGORIES)
            taken.add(t.index)
        for t in self.choose("subcategory_mismatch", not_near, taken):
            t.subcategory = rng.choice(
                [s for c, subs in vocab.TAXONOMY.items() if c != t.category for s in subs]
            )

        prio_taken: set[int] = set()
        for t in self.choose("missing_priority", tickets):
            t.priority = ""
            prio_taken.add(t.index)
        for t in self.choose("invalid_priority", tickets, prio_taken):
            t.priority = rng.choice(["P9", "asap", "Critical!!"])
        for field in ("channel", "team", "product"):
            for t in self.choose(f"missing_{field}", tickets):
                setattr(t, field, "")

        resolved = [t for t in tickets if t.resolved_at is not None]
        ts_taken: set[int] = set()
        for t in self.choose("resolved_before_created", resolved):
            t.resolved_at = t.created_at - timedelta(hours=rng.uniform(1, 72))
            t.updated_at = t.created_at
            ts_taken.add(t.index)
        for t in self.choose("first_response_after_resolution", resolved, ts_taken):
            t.first_response_at = t.resolved_at + timedelta(hours=rng.uniform(1, 48))
            t.updated_at = t.first_response_at
            ts_taken.add(t.index)
        for t in self.choose("future_created_at", tickets, ts_taken):
            shift = (self.builder.export_date - t.created_at) + timedelta(days=rng.randint(1, 400))
            t.created_at += shift
            t.updated_at += shift
            t.first_response_at = t.first_response_at and t.first_response_at + shift
            t.resolved_at = t.resolved_at and t.resolved_at + shift
            ts_taken.add(t.index)
        for t in self.choose("invalid_timestamp", tickets, ts_taken):
            t.created_at_text = rng.choice(BAD_TIMESTAMPS)

        # Text defects stay off duplicate groups so copies remain (near) copies.
        free = [t for t in tickets if t.index not in in_group]
        text_taken: set[int] = set()
        for t in self.choose("empty_description", free):
            t.description = ""
            text_taken.add(t.index)
        for t in self.choose("template_leftover", free, text_taken):
            token = rng.choice(TEMPLATE_TOKENS)
            t.description = f"{t.description} I am writing about {token} again."
        for t in self.choose("html_debris", free, text_taken):
            t.description = rng.choice(HTML_DEBRIS).format(t.description)
        self._pii_candidates = [t for t in free if t.index not in text_taken]

    # -- personal data -----------------------------------------------------------------------

    def plant_pii(self) -> dict[int, str]:
        """Append PII sentences; returns ticket index -> first name to greet by (PERSON spans)."""
        rng = self.rng
        greet: dict[int, str] = {}
        for t in self.choose("pii", self._pii_candidates):
            k = rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
            for _ in range(k):
                entity = _weighted(rng, PII_ENTITY_WEIGHTS)
                if (
                    entity == "PERSON"
                    and t.index not in greet
                    and t.first_response_at is not None
                    and rng.random() < 0.4
                ):
                    greet[t.index] = rng.choice(vocab.FIRST_NAMES)
                    continue
                if entity in ("EMAIL_ADDRESS", "ACCOUNT_NUMBER") and rng.random() < 0.15:
                    value = pv.make_value(entity, rng)
                    prefix = f"{t.subject} - "
                    t.subject = prefix + value
                    t.pii.append(
                        {
                            "field": "subject",
                            "entity_type": entity,
                            "start": len(prefix),
                            "end": len(prefix) + len(value),
                        }
                    )
                    continue
                sentence, s, e = pv.pii_sentence(entity, rng)
                base = f"{t.description} " if t.description else ""
                t.description = base + sentence
                t.pii.append(
                    {
                        "field": "description",
                        "entity_type": entity,
                        "start": len(base) + s,
                        "end": len(base) + e,
                    }
                )
        return greet

    def finish_messages(self, tickets: list[Ticket], greet: dict[int, str]) -> None:
        for t in tickets:
            first_name = greet.get(t.index)
            if first_name is not None and "{first_name}" not in t._persona.greeting:  # type: ignore[attr-defined]
                t._persona = copy.copy(t._persona)  # type: ignore[attr-defined]
                t._persona.greeting = "Hi {first_name},"  # type: ignore[attr-defined]
            self.builder.build_messages(t, first_name)
            for span in [p for p in t.pii if p["field"] == "description"]:
                t.pii.append({**span, "field": "message:0"})
            if first_name is not None and len(t.messages) > 1:
                body = t.messages[1].body
                start = body.index(first_name)
                t.pii.append(
                    {
                        "field": "message:1",
                        "entity_type": "PERSON",
                        "start": start,
                        "end": start + len(first_name),
                    }
                )
