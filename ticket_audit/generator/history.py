"""Builds a ticket history in memory: tickets, conversations, planted defects and the truth."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ticket_audit.generator import pii_values as pv
from ticket_audit.generator import vocabulary as vocab
from ticket_audit.generator.spec import GeneratorSpec

TS_FORMAT = "%Y-%m-%d %H:%M:%S"
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TEMPLATE_TOKENS = ["{customer_name}", "{{order_id}}", "{product_purchased}", "[FIRST_NAME]"]
HTML_DEBRIS = ["<div>{}</div><br>", "<p>{}&nbsp;</p>", "{}<br/><br/>", '<span style="">{}</span>']
BAD_TIMESTAMPS = ["31/13/2023 25:61", "yesterday", "2023-02-30 10:00:00", "N/A", "12-31-2023 9pm"]
PII_ENTITY_WEIGHTS = {
    "EMAIL_ADDRESS": 18,
    "PHONE_NUMBER": 14,
    "PERSON": 12,
    "STREET_ADDRESS": 8,
    "CREDIT_CARD": 6,
    "ACCOUNT_NUMBER": 6,
    "IP_ADDRESS": 5,
    "DATE_OF_BIRTH": 5,
    "IBAN_CODE": 4,
    "PASSWORD": 5,
    "API_KEY": 3,
    "ACCESS_TOKEN": 3,
    "US_SSN": 3,
    "UK_NINO": 2,
}
TAGS = ["vip", "refund", "escalated", "mobile", "web", "repeat", "outage", "b2b"]


@dataclass
class Message:
    seq: int
    role: str
    author: str
    created_at: datetime | None
    body: str
    public: bool = True


@dataclass
class Ticket:
    index: int
    ticket_id: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    updated_at: datetime
    status: str
    channel: str
    priority: str
    category: str
    subcategory: str
    product: str
    tags: list[str]
    team: str
    assignee: str
    customer_name: str
    customer_email: str
    language: str
    csat: int | None
    subject: str
    description: str
    messages: list[Message]
    true_category: str
    true_subcategory: str
    defects: set[str] = field(default_factory=set)
    duplicate_of: str | None = None
    created_at_text: str | None = None  # set when the timestamp is planted unparseable
    pii: list[dict] = field(default_factory=list)  # {field, entity_type, start, end}
    ts_format: str = TS_FORMAT


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass
class _Persona:
    agent: str
    greeting: str
    signoff: str
    macro_share: float
    bullets: bool


class HistoryBuilder:
    def __init__(self, spec: GeneratorSpec):
        self.spec = spec
        self.rng = random.Random(spec.seed)
        end = spec.end_month
        self.export_date = datetime(end.year + (end.month == 12), end.month % 12 + 1, 1)
        first = spec.start_month
        self.start = datetime(first.year, first.month, 1)
        self.span_seconds = int((self.export_date - self.start).total_seconds())
        self.personas = [
            _Persona(
                agent=a,
                greeting=vocab.GREETINGS[i % len(vocab.GREETINGS)],
                signoff=vocab.SIGNOFFS[(i * 3) % len(vocab.SIGNOFFS)],
                macro_share=[0.8, 0.1, 0.5, 0.3, 0.0][i % 5],
                bullets=i % 4 == 1,
            )
            for i, a in enumerate(vocab.AGENTS)
        ]
        n_customers = max(10, spec.tickets // 3)
        self.customers = []
        for _ in range(n_customers):
            first, last = pv.person_name(self.rng)
            self.customers.append((f"{first} {last}", pv.email(self.rng, first, last)))

    # -- base tickets -------------------------------------------------------------------

    def _customer_text(self, category: str, subcategory: str, product: str, language: str):
        rng = self.rng
        subjects, problems, details = (
            vocab.CATCH_ALL_TEXT
            if category == vocab.CATCH_ALL
            else vocab.CUSTOMER_TEXT[subcategory]
        )
        subject = rng.choice(subjects)
        if language != "en":
            return subject, vocab.FOREIGN_DESCRIPTIONS[language].format(product=product)
        parts = [
            rng.choice(vocab.OPENERS),
            rng.choice(problems).format(product=product),
            rng.choice(details),
        ]
        if rng.random() < 0.5:
            parts.append(rng.choice([d for d in details if d != parts[2]]))
        parts.append(rng.choice(vocab.CLOSERS))
        return subject, " ".join(p for p in parts if p)

    def _agent_reply(self, persona: _Persona, category: str, first_name: str | None) -> str:
        rng = self.rng
        if rng.random() < persona.macro_share:
            body = vocab.MACRO_REPLIES[category]
        else:
            body = rng.choice(vocab.FREEFORM_REPLIES).format(
                fix=rng.choice(vocab.FIXES).capitalize()
                if rng.random() < 0.3
                else rng.choice(vocab.FIXES),
                followup=rng.choice(vocab.FOLLOWUPS),
            )
            if rng.random() < 0.25:
                body = f"{rng.choice(vocab.TONE_MARKERS)}, {body[0].lower()}{body[1:]}"
            if persona.bullets:
                body += "\n\n- Restart the device\n- Check for updates\n- Reply to this email"
        greeting = persona.greeting
        if "{first_name}" in greeting:
            greeting = greeting.format(first_name=first_name) if first_name else "Hi,"
        signoff = persona.signoff.format(agent=persona.agent)
        return "\n\n".join(p for p in (greeting, body.strip(), signoff) if p)

    def _timestamps(self, priority: str):
        rng = self.rng
        created = self.start + timedelta(seconds=rng.randrange(self.span_seconds))
        first_resp_minutes = rng.lognormvariate(4.0 if priority in ("high", "urgent") else 5.0, 1.0)
        first_response = created + timedelta(minutes=min(first_resp_minutes, 60 * 24 * 5))
        hours = rng.lognormvariate({"urgent": 1.5, "high": 2.5}.get(priority, 3.3), 0.9)
        resolved = first_response + timedelta(hours=min(hours, 24 * 40))
        return created, first_response, resolved

    def base_ticket(self, index: int) -> Ticket:
        rng = self.rng
        category = rng.choice(list(vocab.TAXONOMY))
        subcategory = rng.choice(vocab.TAXONOMY[category])
        product = rng.choice(vocab.PRODUCTS)
        language = _weighted(rng, vocab.LANGUAGES)
        priority = _weighted(rng, vocab.PRIORITIES)
        channel = _weighted(rng, vocab.CHANNELS)
        team = vocab.TEAM_BY_CATEGORY[category] if rng.random() < 0.85 else "frontline"
        persona = rng.choice(self.personas)
        name, email = rng.choice(self.customers)
        created, first_response, resolved = self._timestamps(priority)
        age_days = (self.export_date - created).days
        if resolved >= self.export_date or (age_days > 10 and rng.random() < 0.06):
            status = rng.choice(["open", "pending"])
            resolved_at = None
            if first_response >= self.export_date:
                first_response = None
        else:
            status = rng.choice(["solved", "closed"])
            resolved_at = resolved
        subject, description = self._customer_text(category, subcategory, product, language)
        csat = None
        if resolved_at is not None and rng.random() < 0.6:
            hours = (resolved_at - created).total_seconds() / 3600
            csat = max(1, min(5, round(rng.gauss(4.4 - min(hours, 96) / 40, 0.9))))
        t = Ticket(
            index=index,
            ticket_id="",
            created_at=created,
            first_response_at=first_response,
            resolved_at=resolved_at,
            updated_at=resolved_at or first_response or created,
            status=status,
            channel=channel,
            priority=priority,
            category=category,
            subcategory=subcategory,
            product=product,
            tags=rng.sample(TAGS, k=rng.choice([0, 0, 1, 1, 2, 3])),
            team=team,
            assignee=persona.agent,
            customer_name=name,
            customer_email=email,
            language=language,
            csat=csat,
            subject=subject,
            description=description,
            messages=[],
            true_category=category,
            true_subcategory=subcategory,
            ts_format=ISO_FORMAT if rng.random() < 0.1 else TS_FORMAT,
        )
        t._persona = persona  # type: ignore[attr-defined]
        return t

    def build_messages(self, t: Ticket, first_name: str | None) -> None:
        rng = self.rng
        persona = t._persona  # type: ignore[attr-defined]
        msgs = [Message(0, "customer", "customer", t.created_at, t.description)]
        if t.first_response_at is not None:
            msgs.append(
                Message(
                    1,
                    "agent",
                    persona.agent,
                    t.first_response_at,
                    self._agent_reply(persona, t.true_category, first_name),
                )
            )
            if rng.random() < 0.15:
                msgs.append(
                    Message(
                        len(msgs),
                        "agent",
                        persona.agent,
                        t.first_response_at,
                        "Internal note: checked logs, escalating to tier 2.",
                        public=False,
                    )
                )
            if t.resolved_at is not None and rng.random() < 0.45:
                follow_at = t.first_response_at + (t.resolved_at - t.first_response_at) / 2
                msgs.append(
                    Message(
                        len(msgs),
                        "customer",
                        "customer",
                        follow_at,
                        rng.choice(
                            [
                                "Thanks, that worked.",
                                "It is still not working.",
                                "Any update on this?",
                                "Thank you for the quick help!",
                            ]
                        ),
                    )
                )
                msgs.append(
                    Message(
                        len(msgs),
                        "agent",
                        persona.agent,
                        t.resolved_at,
                        self._agent_reply(persona, t.true_category, None),
                    )
                )
        t.messages = msgs
