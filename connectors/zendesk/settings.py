"""Zendesk API endpoints and vendor constants (developer.zendesk.com, Support API v2)."""

from __future__ import annotations

# GET ?start_time=<unix> for the first page, then ?cursor=<after_cursor>. Each page has
# `tickets`, `after_cursor`, `after_url` and `end_of_stream`; side-loads with `include=`.
INCREMENTAL_TICKETS = "/api/v2/incremental/tickets/cursor.json"
# Cursor pagination: page[size], then page[after]=<meta.after_cursor> while meta.has_more.
TICKET_COMMENTS = "/api/v2/tickets/{ticket_id}/comments.json"
COMMENTS_PAGE_SIZE = 100

# Ticket attributes copied as text columns (objects and lists become JSON text).
TICKET_KEYS = (
    "id",
    "external_id",
    "created_at",
    "updated_at",
    "type",
    "subject",
    "description",
    "priority",
    "status",
    "recipient",
    "requester_id",
    "submitter_id",
    "assignee_id",
    "organization_id",
    "group_id",
    "brand_id",
    "problem_id",
    "due_at",
    "ticket_form_id",
    "generated_timestamp",
)
DELETED_STATUS = "deleted"

# User roles (side-loaded users) -> canonical author roles.
ROLE_MAP = {"end-user": "customer", "agent": "agent", "admin": "agent"}
# satisfaction_rating.score -> csat on the canonical 1-5 scale; offered/unoffered mean none.
SATISFACTION_CSAT = {"good": "5", "bad": "1"}
