"""The canonical ticket model every source is mapped onto.

Documented for people in docs/data-model.md; this module is the single machine-readable
definition (DuckDB DDL and field lists are derived from it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    sql_type: str
    description: str
    kind: str = "scalar"  # scalar | timestamp | text | list | integer | boolean


TICKET_FIELDS: tuple[Field, ...] = (
    Field("ticket_id", "VARCHAR", "Identifier of the ticket in its source system."),
    Field("created_at", "TIMESTAMP", "When the ticket was opened (UTC).", "timestamp"),
    Field("updated_at", "TIMESTAMP", "Last change in the source (UTC).", "timestamp"),
    Field("first_response_at", "TIMESTAMP", "First agent response (UTC).", "timestamp"),
    Field("resolved_at", "TIMESTAMP", "When the ticket was solved or closed (UTC).", "timestamp"),
    Field("status", "VARCHAR", "Lifecycle state, mapped to open/pending/solved/closed."),
    Field("channel", "VARCHAR", "Where the customer wrote: email, chat, phone, web, social."),
    Field("priority", "VARCHAR", "low / normal / high / urgent after value mapping."),
    Field("category", "VARCHAR", "Top-level taxonomy label (the label a GenAI model learns)."),
    Field("subcategory", "VARCHAR", "Second-level label; must belong to the category."),
    Field("product", "VARCHAR", "Product or plan the ticket is about."),
    Field("tags", "VARCHAR[]", "Free tags from the helpdesk.", "list"),
    Field("team", "VARCHAR", "Group or queue that owned the ticket."),
    Field("assignee_id", "VARCHAR", "Agent identifier (pseudonymous where configured)."),
    Field("customer_id", "VARCHAR", "Pseudonymous customer key (keyed hash of the source id)."),
    Field("language", "VARCHAR", "ISO 639-1 language code of the conversation."),
    Field("csat", "INTEGER", "Customer satisfaction 1-5.", "integer"),
    Field("subject", "VARCHAR", "Ticket subject line (free text, may hold PII).", "text"),
    Field("description", "VARCHAR", "First customer message (free text, may hold PII).", "text"),
    Field("deleted_at", "TIMESTAMP", "When the source reported the ticket deleted.", "timestamp"),
    Field(
        "labels",
        "VARCHAR[]",
        "Every label of a one-hot export; two or more: a multi-label ticket (category empty).",
        "list",
    ),
)

MESSAGE_FIELDS: tuple[Field, ...] = (
    Field("ticket_id", "VARCHAR", "Ticket the message belongs to."),
    Field("seq", "INTEGER", "Position in the conversation, 0-based.", "integer"),
    Field("author_role", "VARCHAR", "customer / agent / system."),
    Field("author_id", "VARCHAR", "Author identifier (pseudonymous where configured)."),
    Field("created_at", "TIMESTAMP", "When the message was written (UTC).", "timestamp"),
    Field("body", "VARCHAR", "Message text (free text, may hold PII).", "text"),
    Field("is_public", "BOOLEAN", "False for internal notes.", "boolean"),
)

LINEAGE_FIELDS: tuple[Field, ...] = (
    Field("source", "VARCHAR", "Configured source name."),
    Field("origin", "VARCHAR", "File path, table or endpoint the row came from."),
    Field("row_number", "BIGINT", "1-based data row in the origin (or cursor position)."),
    Field("load_id", "VARCHAR", "Identifier of the load that wrote the row."),
    Field("loaded_at", "TIMESTAMP", "When the row was loaded (UTC)."),
)

TICKET_COLUMNS = tuple(f.name for f in TICKET_FIELDS)
MESSAGE_COLUMNS = tuple(f.name for f in MESSAGE_FIELDS)
TEXT_TICKET_FIELDS = tuple(f.name for f in TICKET_FIELDS if f.kind == "text")
TIMESTAMP_TICKET_FIELDS = tuple(f.name for f in TICKET_FIELDS if f.kind == "timestamp")
REQUIRED_TICKET_FIELDS = ("ticket_id", "created_at")

AUTHOR_ROLES = ("customer", "agent", "system")

# Schemas in the DuckDB file. `raw` and `canonical` are the restricted zone: they hold text
# exactly as the customer wrote it. Everything in `audit` is derived and free of raw PII.
RESTRICTED_SCHEMAS = ("raw", "canonical")
AUDIT_SCHEMA = "audit"


def ticket_by_name() -> dict[str, Field]:
    return {f.name: f for f in TICKET_FIELDS}


def message_by_name() -> dict[str, Field]:
    return {f.name: f for f in MESSAGE_FIELDS}
