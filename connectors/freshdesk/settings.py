"""Freshdesk API v2 endpoints and vendor constants (developers.freshdesk.com/api)."""

from __future__ import annotations

# GET ?updated_since=<ISO>&order_by=updated_at&order_type=asc&per_page=&page=&include=
# returns a JSON list; a `Link: <...>; rel="next"` header says another page exists. The API
# serves at most 300 pages of one listing, so the reader restarts from the newest
# `updated_at` it has seen instead of walking deep page numbers.
TICKETS = "/api/v2/tickets"
MAX_PAGE = 300
# Deleted tickets are listed only with this filter.
DELETED_FILTER = "deleted"
# Conversations (replies and notes) of one ticket, page-numbered with a Link header too.
CONVERSATIONS = "/api/v2/tickets/{ticket_id}/conversations"
CONVERSATIONS_PAGE_SIZE = 100

TICKET_KEYS = (
    "id",
    "created_at",
    "updated_at",
    "due_by",
    "fr_due_by",
    "status",
    "priority",
    "source",
    "type",
    "subject",
    "description_text",
    "requester_id",
    "responder_id",
    "group_id",
    "company_id",
    "product_id",
    "email_config_id",
    "spam",
    "is_escalated",
    "fr_escalated",
)
# From include=stats.
STATS_KEYS = ("first_responded_at", "resolved_at", "closed_at", "agent_responded_at")
