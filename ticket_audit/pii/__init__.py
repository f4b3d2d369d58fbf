"""The PII layer: Presidio-based detection, keyed hashing, redaction and the exposure numbers.

Modules: `analyzer` (offline AnalyzerEngine from config), `recognizers/` (one per entity
type), `scan` (the fast scanner), `hashing`, `redact`, `scan_tickets` / `redact_tickets` /
`residual` (the incremental steps over DuckDB), `exposure` (report numbers), `evaluate`
(precision and recall), `scan_file` (`ticket-audit scan-pii`).
"""
