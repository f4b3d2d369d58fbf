"""Jobs for production operation: the audit on Celery workers, and month-by-month backfills.

Every job carries the `ticket_audit/duckdb` run tag naming its DuckDB file; the run queue in
dagster.yaml admits one run per value, so two audits never write the same file at once.
"""

import os
from pathlib import Path

import dagster as dg
from dagster_celery import celery_executor

from pipelines.defs.partitions import monthly_partitions
from pipelines.settings import config_path
from ticket_audit.config import ConfigError, load_config

DUCKDB_TAG = "ticket_audit/duckdb"
BROKER_ENV = "TICKET_AUDIT_CELERY_BROKER"
BACKEND_ENV = "TICKET_AUDIT_CELERY_BACKEND"
QUEUE_ENV = "TICKET_AUDIT_CELERY_QUEUE"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
DEFAULT_BACKEND = "redis://127.0.0.1:6379/1"


def duckdb_tag_value(duckdb_path: str | Path) -> str:
    return str(Path(duckdb_path).resolve())


def _duckdb_tags() -> dict[str, str]:
    # Fixed when the code location loads, like the partition set; a broken config still gets a
    # tag so its runs queue behind each other rather than not at all.
    try:
        return {DUCKDB_TAG: duckdb_tag_value(load_config(config_path()).duckdb_path)}
    except ConfigError:
        return {DUCKDB_TAG: "unconfigured"}


# The per-month stages: every asset with a time-window partitions definition (the monthly
# one is the only kind the audit has). Chosen by structure rather than by name, so stages
# added by other layers join the monthly jobs without editing them. The `partitions:` filter
# of Dagster's selection syntax does this with public API; a subclass of AssetSelection
# needs Dagster's private modules.
PER_MONTH_STAGES = 'partitions:"time"'


def _source(env: str, default: str) -> dict | str:
    # Resolved when the run starts, in the run's process; workers read the same variables
    # through deploy/celery.yaml. Unset, they mean the Redis on this host.
    return {"env": env} if os.environ.get(env) else default


# Configured rather than left to run config: dagster-celery's own default broker is AMQP on
# localhost, and a run launched without config would queue its steps where no worker listens.
# The queue separates audits (or environments) sharing one broker: workers listen with
# `-q <queue>`. Read at load time because Celery's own settings take no env references.
redis_celery_executor = celery_executor.configured(
    {
        "broker": _source(BROKER_ENV, DEFAULT_BROKER),
        "backend": _source(BACKEND_ENV, DEFAULT_BACKEND),
        "config_source": {"task_default_queue": os.environ.get(QUEUE_ENV) or "dagster"},
    },
    name="celery_redis",
)


_tags = _duckdb_tags()

# The whole audit, each stage a Celery task: independent stages (the PII scan, quality checks,
# ownership, baselines) run at the same time on different workers. Launch it with a partition
# range covering the history (as the CLI does) for a full audit.
audit_celery_job = dg.define_asset_job(
    "audit_celery_job",
    selection=dg.AssetSelection.all(),
    partitions_def=monthly_partitions,
    executor_def=redis_celery_executor,
    tags=_tags,
    description="Full audit with every stage executed by dagster-celery workers.",
)

# Only the per-month stages, for backfills: one run per month (docs/operations.md), each
# independent and retryable, with its steps on Celery workers.
monthly_stages_celery_job = dg.define_asset_job(
    "monthly_stages_celery_job",
    selection=PER_MONTH_STAGES,
    partitions_def=monthly_partitions,
    executor_def=redis_celery_executor,
    tags=_tags,
    description="Per-month audit stages on dagster-celery workers; backfill month by month.",
)

# The same per-month stages without Celery. In one process: the NER model and the code
# location load once per month run rather than once per step, and the steps' writes to the
# single DuckDB file take turns anyway; parallel stages are what the Celery job is for.
monthly_stages_job = dg.define_asset_job(
    "monthly_stages_job",
    selection=PER_MONTH_STAGES,
    partitions_def=monthly_partitions,
    executor_def=dg.in_process_executor,
    tags=_tags,
    description="Per-month audit stages; backfill month by month.",
)
