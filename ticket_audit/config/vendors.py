"""Default mappings of the helpdesk API sources onto the canonical model.

The Zendesk and Freshdesk connectors flatten each vendor ticket into the text columns named
here (docs/connectors.md lists them all, custom fields included). A source that sets its own
`mapping` replaces the default as a whole; configs/zendesk.yaml and configs/freshdesk.yaml
spell the defaults out as a starting point.
"""

from __future__ import annotations

ZENDESK_MAPPING: dict = {
    "fields": {
        "ticket_id": "id",
        "created_at": "created_at",
        "updated_at": "updated_at",
        "first_response_at": "first_response_at",
        "resolved_at": "solved_at",
        "status": "status",
        "channel": "via_channel",
        "priority": "priority",
        # Zendesk's own `type` (question/incident/problem/task); most desks keep their
        # category in a custom field: point this at `custom_field_<id>`.
        "category": "type",
        "tags": "tags",
        "team": "group_name",
        "assignee_id": "assignee_id",
        "customer_id": "requester_id",
        "language": "requester_language",
        "csat": "satisfaction_csat",
        "subject": "subject",
        "description": "description",
    },
    "value_maps": {
        "status": {
            "new": "open",
            "open": "open",
            "pending": "pending",
            "hold": "pending",
            "solved": "solved",
            "closed": "closed",
        },
        "channel": {
            "email": "email",
            "web": "web",
            "chat": "chat",
            "native_messaging": "chat",
            "voice": "phone",
            "api": "web",
            "mobile": "web",
            "mobile_sdk": "web",
            "twitter": "social",
            "facebook": "social",
        },
    },
    "pseudonymize": ["customer_id", "assignee_id"],
}

FRESHDESK_MAPPING: dict = {
    "fields": {
        "ticket_id": "id",
        "created_at": "created_at",
        "updated_at": "updated_at",
        "first_response_at": "first_responded_at",
        "resolved_at": ["resolved_at", "closed_at"],
        "status": "status",
        "channel": "source",
        "priority": "priority",
        "category": "type",
        "product": "product_id",
        "tags": "tags",
        "team": "group_id",
        "assignee_id": "responder_id",
        "customer_id": "requester_id",
        "subject": "subject",
        "description": "description_text",
    },
    "value_maps": {
        # Freshdesk's numeric codes (API v2 reference); custom statuses stay as they are.
        "status": {"2": "open", "3": "pending", "4": "solved", "5": "closed"},
        "priority": {"1": "low", "2": "normal", "3": "high", "4": "urgent"},
        "channel": {
            "1": "email",
            "2": "web",
            "3": "phone",
            "5": "social",
            "6": "social",
            "7": "chat",
            "9": "web",
            "10": "email",
        },
    },
    "pseudonymize": ["customer_id", "assignee_id"],
}
