"""Freshdesk: tickets by `updated_since` (page-numbered, Link header), conversations per ticket.

`source.py` turns pages into chunks for connectors.incremental, `client.py` speaks HTTP,
`settings.py` holds the endpoints and vendor constants (docs/connectors.md).
"""
