"""The quality layer: what share of the history is usable labelled data, and what is wrong
with the rest (definitions in docs/quality.md). No module here imports Dagster."""
