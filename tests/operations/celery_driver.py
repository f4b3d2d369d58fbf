"""Launches a Celery job of the code location and prints what happened, as JSON (test helper).

    python -m tests.operations.celery_driver JOB (--full-audit | --partition KEY)

Runs in its own process so the code location loads with this test's environment
(TICKET_AUDIT_CONFIG, DAGSTER_HOME), exactly as the Celery workers load it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import dagster as dg

from tests.operations.conftest import REPO


def job_named(name: str) -> dg.JobDefinition:
    """The code location's job `name`: what each Celery worker rebuilds the job from."""
    from pipelines.definitions import defs

    return (defs() if callable(defs) else defs).resolve_job_def(name)


def _execute(job: str, tags: dict[str, str], assets: list[str] | None = None) -> dict:
    reconstructable = dg.build_reconstructable_job(
        "tests.operations.celery_driver",
        "job_named",
        reconstructable_args=(job,),
        reconstructor_working_directory=str(REPO),
    )
    selection = [dg.AssetKey(a) for a in assets] if assets else None
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            reconstructable,
            instance=instance,
            tags=tags,
            asset_selection=selection,
            raise_on_error=False,
        )
        steps: dict[str, dict] = {}
        materialized: list[list] = []
        for event in result.all_events:
            if event.step_key is None:
                continue
            step = steps.setdefault(event.step_key, {})
            if event.event_type_value == "STEP_START":
                step["pid"] = event.pid
            elif event.event_type_value == "STEP_SUCCESS":
                step["success"] = True
            elif event.event_type_value == "ENGINE_EVENT" and "in celery worker" in event.message:
                meta = event.engine_event_data.metadata
                step["celery_worker"] = meta["Celery worker"].value
            elif event.event_type_value == "ASSET_MATERIALIZATION":
                m = event.step_materialization_data.materialization
                materialized.append([m.asset_key.to_user_string(), m.partition])
        return {
            "success": result.success,
            "run_id": result.run_id,
            "driver_pid": os.getpid(),
            "steps": steps,
            "materialized": materialized,
        }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("job")
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--full-audit", action="store_true")
    group.add_argument("--partition")
    args = ap.parse_args(argv)
    if args.partition:
        out = _execute(args.job, {"dagster/partition": args.partition})
    else:
        # As the CLI does: load first, then run every stage over the months that hold tickets.
        from pipelines.defs.partitions import monthly_partitions
        from pipelines.runner import _month_range
        from pipelines.settings import config_path
        from ticket_audit.config import load_config

        ingest = _execute(args.job, {}, assets=["raw_tickets", "canonical_tickets"])
        if not ingest["success"]:
            print(json.dumps(ingest))
            return 1
        (lo, hi), _ = _month_range(load_config(config_path()), monthly_partitions)
        out = _execute(
            args.job,
            {
                "dagster/asset_partition_range_start": lo,
                "dagster/asset_partition_range_end": hi,
            },
        )
        out["ingest_steps"] = ingest["steps"]
    print(json.dumps(out))
    return 0 if out["success"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
