"""Errors a source raises; each message names the source and the file, field or row."""


class IngestError(ValueError):
    """The source cannot be loaded as configured (missing column, empty file, ...)."""


class SourceUnavailableError(IngestError):
    """The source could not be reached (server down, wrong credentials, file missing)."""
