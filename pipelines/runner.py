"""Runs the whole audit in-process: the same Dagster assets the UI shows, without a UI.

Assets run in dependency order, one run per asset definition, so the command line can show
a progress bar and a failure names the stage. Partitioned assets run once over the range of
months that hold tickets (a single-run backfill).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from tqdm import tqdm

from pipelines.settings import CONFIG_ENV, OUTPUT_ENV
from ticket_audit.config import load_config
from ticket_audit.store import open_store

# Errors that mean "bad configuration or input" (exit 2) rather than a defect of ours.
INPUT_ERRORS = {
    "ConfigError",
    "IngestError",
    "SourceUnavailableError",
    "OutputError",
    "StoreBusyError",
}


class AuditFailed(RuntimeError):
    def __init__(self, message: str, *, input_error: bool):
        super().__init__(message)
        self.input_error = input_error


@dataclass
class AuditRun:
    output_dir: Path
    run_ids: list[str] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)


def dagster_instance() -> dg.DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    home = Path(".ticket_audit/dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        # Same instance settings as the repository's dagster.yaml (telemetry off: offline).
        settings.write_text("telemetry:\n  enabled: false\nnux:\n  enabled: false\n")
    return dg.DagsterInstance.from_config(str(home))


def _failure_message(result: dg.ExecuteInProcessResult) -> AuditFailed:
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        err = event.step_failure_data.error
        chain = []
        while err is not None:
            chain.append(err)
            err = err.cause
        for e in chain:
            if e.cls_name in INPUT_ERRORS:
                return AuditFailed(f"{event.step_key}: {e.message.strip()}", input_error=True)
        last = chain[-1]
        return AuditFailed(
            f"{event.step_key} failed: {last.cls_name}: {last.message.strip()}", input_error=False
        )
    return AuditFailed("the audit run failed without a step failure event", input_error=False)


def _month_range(cfg, partitions: dg.MonthlyPartitionsDefinition) -> tuple[str, str] | None:
    with open_store(cfg.duckdb_path) as con:
        lo, hi = con.execute(
            "SELECT min(created_month), max(created_month) FROM canonical.tickets"
        ).fetchone()
    if lo is None:
        return None
    keys = partitions.get_partition_keys()
    lo_key = max(keys[0], lo.isoformat())
    hi_key = min(keys[-1], hi.isoformat())
    lo_key = min(lo_key, keys[-1])
    hi_key = max(hi_key, keys[0])
    return lo_key, hi_key


def run_audit(
    config_path: str | Path,
    output_dir: str | Path | None = None,
    *,
    show_progress: bool = True,
    verbose: bool = False,
    instance: dg.DagsterInstance | None = None,
) -> AuditRun:
    cfg = load_config(config_path)  # ConfigError surfaces before any run starts
    os.environ[CONFIG_ENV] = str(Path(config_path).resolve())
    if output_dir is not None:
        os.environ[OUTPUT_ENV] = str(Path(output_dir).resolve())
    out = Path(output_dir).resolve() if output_dir else cfg.output_dir

    from pipelines.definitions import defs as lazy_defs
    from pipelines.defs.partitions import monthly_partitions

    defs = lazy_defs() if callable(lazy_defs) else lazy_defs
    graph = defs.resolve_asset_graph()
    job = defs.resolve_implicit_global_asset_job_def()
    instance = instance or dagster_instance()
    run_config = {} if verbose else {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

    # Group keys by the definition that computes them: a multi-asset runs as one step.
    steps: list[list[dg.AssetKey]] = []
    seen: set[dg.AssetKey] = set()
    for key in graph.toposorted_asset_keys:
        node = graph.get(key)
        if not node.is_materializable or key in seen:
            continue
        group = [k for k in node.assets_def.keys if graph.get(k).is_materializable]
        seen.update(group)
        steps.append(group)

    run = AuditRun(out)
    bar = tqdm(total=len(steps), desc="audit", unit="stage", disable=not show_progress)
    month_range = None
    try:
        for group in steps:
            names = ", ".join(k.to_user_string() for k in group)
            bar.set_postfix_str(names[:60])
            tags = {"ticket_audit/cli": "true"}
            if graph.get(group[0]).partitions_def is not None:
                month_range = month_range or _month_range(cfg, monthly_partitions)
                if month_range is None:
                    bar.update(1)
                    continue
                tags["dagster/asset_partition_range_start"] = month_range[0]
                tags["dagster/asset_partition_range_end"] = month_range[1]
            result = job.execute_in_process(
                instance=instance,
                asset_selection=group,
                tags=tags,
                run_config=run_config,
                raise_on_error=False,
            )
            run.run_ids.append(result.run_id)
            if not result.success:
                raise _failure_message(result)
            run.assets.extend(k.to_user_string() for k in group)
            bar.update(1)
    finally:
        bar.close()
    return run
