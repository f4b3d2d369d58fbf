"""The weekly audit schedule: off by default (turn it on in the UI or with `dagster schedule
start weekly_audit_schedule`); docs/connectors.md."""

import os

import dagster as dg

from pipelines.defs.audit_job import audit_job, full_audit_tags

CRON_ENV = "TICKET_AUDIT_WEEKLY_CRON"
TIMEZONE_ENV = "TICKET_AUDIT_SCHEDULE_TIMEZONE"
# Monday 06:00: incremental sources pick up the week's changes before the working week.
DEFAULT_CRON = "0 6 * * 1"


@dg.schedule(
    job=audit_job,
    cron_schedule=os.environ.get(CRON_ENV, DEFAULT_CRON),
    execution_timezone=os.environ.get(TIMEZONE_ENV, "UTC"),
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Weekly full audit: incremental sources load what changed since last week.",
)
def weekly_audit_schedule(context: dg.ScheduleEvaluationContext):
    tags = full_audit_tags()
    if tags is None:
        return dg.SkipReason("no monthly partitions: check audit.partitions_start")
    week = context.scheduled_execution_time.strftime("%G-W%V")
    return dg.RunRequest(
        run_key=f"weekly-audit-{week}", tags={**tags, "ticket_audit/trigger": "schedule"}
    )
