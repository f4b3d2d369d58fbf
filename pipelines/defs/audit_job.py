"""The whole audit as one job on the default executor: what the sensor and schedule launch.

Every asset, one run over the whole partition range (as the command line runs it), tagged
with the DuckDB file so the run queue admits one audit per file at a time.
"""

import dagster as dg

from pipelines.defs.jobs import DUCKDB_TAG, duckdb_tag_value
from pipelines.defs.partitions import monthly_partitions
from pipelines.settings import config_path
from ticket_audit.config import ConfigError, load_config

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

audit_job = dg.define_asset_job(
    "audit_job",
    selection=dg.AssetSelection.all(),
    partitions_def=monthly_partitions,
    description="Full audit of the configured sources (started by the export sensor and the "
    "weekly schedule; docs/connectors.md).",
)


def full_audit_tags() -> dict[str, str] | None:
    """Run tags for an audit of the whole history, or None when there are no partitions."""
    keys = monthly_partitions.get_partition_keys()
    if not keys:
        return None
    try:
        duckdb = duckdb_tag_value(load_config(config_path()).duckdb_path)
    except ConfigError:
        duckdb = "unconfigured"
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1], DUCKDB_TAG: duckdb}
