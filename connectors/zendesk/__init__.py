"""Zendesk Support: cursor-based incremental ticket export plus each ticket's comments.

`source.py` turns pages into chunks for connectors.incremental, `client.py` speaks HTTP,
`settings.py` holds the endpoints and vendor constants (docs/connectors.md).
"""
