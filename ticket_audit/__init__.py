"""Core of ticket-audit: configuration, the canonical ticket model, storage and analytics.

The Dagster code location lives in ``pipelines``; this package never imports Dagster.
"""

__version__ = "0.1.0"
