"""Runs the whole audit in-process: the same Dagster assets the UI shows, without a UI.

Assets run in dependency order, one run per asset definition, so the command line can show
a progress bar and a failure names the stage. Partitioned assets run once over the range of
months that hold tickets (a single-run backfill).

A command-line audit holds an exclusive lock on its DuckDB file for its whole duration (a
second audit of the same file stops at once with a message naming the file and the holder),
checks that the output directory takes files before any work, and clears temporaries that a
killed earlier audit left there.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from tqdm import tqdm

from pipelines.settings import CONFIG_ENV, OUTPUT_ENV
from reports.files import OutputError, remove_stale_temporaries, write_atomic
from ticket_audit.config import load_config
from ticket_audit.store import open_store

CLI_TAG = "ticket_audit/cli"
NEARLY_FULL = 16 * 1024 * 1024

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
    # Wall-clock seconds per stage (asset definition), in execution order.
    stage_seconds: dict[str, float] = field(default_factory=dict)


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


def _free_bytes(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _disk_full_hint(message: str, out: Path, duckdb_path: Path) -> str:
    """Name the volume that ran out: the error may name a file, the user thinks in settings."""
    volumes = [
        (out, f"the output directory {out} is full"),
        (duckdb_path.parent, f"the volume of the audit database {duckdb_path} is full"),
    ]
    named = [text for path, text in volumes if str(path) in message]
    if not named:
        # Some writers (Great Expectations' Data Docs, for one) do not say which file failed;
        # the volume with (almost) nothing left is the one.
        named = [text for path, text in volumes if (_free_bytes(path) or 0) < NEARLY_FULL]
    where = named[0] if named else "a disk the audit writes to is full"
    # Drop the exception class noise DuckDB adds; keep its text, which names the file.
    detail = message.split("Error: ", 1)[-1]
    return (
        f"no space left on device: {where} ({detail}). Free space or move it "
        "(--output, audit.duckdb_path) and re-run; finished stages are kept."
    )


def _error_chain(err) -> list:
    """The error, its causes and the errors it was raised while handling, outermost first.

    A failed clean-up (a ROLLBACK after a failed COMMIT) can hide the real problem in the
    implicit context rather than the explicit cause.
    """
    chain, todo, seen = [], [err], set()
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        chain.append(e)
        todo += [e.cause, e.context]
    return chain


def _failure_message(
    result: dg.ExecuteInProcessResult, out: Path, duckdb_path: Path
) -> AuditFailed:
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        chain = _error_chain(event.step_failure_data.error)
        for e in chain:
            if e.cls_name in INPUT_ERRORS:
                return AuditFailed(f"{event.step_key}: {e.message.strip()}", input_error=True)
        for e in chain:
            if "No space left on device" in e.message or f"[Errno {errno.ENOSPC}]" in e.message:
                return AuditFailed(
                    f"{event.step_key}: {_disk_full_hint(e.message.strip(), out, duckdb_path)}",
                    input_error=True,
                )
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


def _lock_holder(fh) -> str:
    fh.seek(0)
    return fh.read().strip() or "another process"


@contextmanager
def audit_lock(duckdb_path: Path) -> Iterator[None]:
    """Exclusive for the whole audit; fails at once if another audit holds the file.

    The store's own lock is per connection, so two audits of one file would otherwise take
    turns stage by stage and mix their results. flock is released by the kernel when the
    holder dies, so a killed audit never leaves the file locked.
    """
    lock_path = duckdb_path.with_name(duckdb_path.name + ".audit.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(lock_path, "a+")  # noqa: SIM115 - held for the lifetime of the lock
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AuditFailed(
                f"{duckdb_path}: another audit is already running on this DuckDB file "
                f"({_lock_holder(fh)}). Two audits must not write the same DuckDB file at "
                "once: wait for it to finish, or point audit.duckdb_path elsewhere.",
                input_error=True,
            ) from None
        fh.seek(0)
        fh.truncate()
        started = datetime.now(UTC).isoformat(timespec="seconds")
        fh.write(f"pid {os.getpid()} on {os.uname().nodename}, started {started}")
        fh.flush()
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def _check_output_dir(out: Path) -> None:
    """Fail before any work when reports cannot be written (read-only, not a directory)."""
    try:
        if out.exists() and not out.is_dir():
            raise OutputError(f"{out}: cannot write reports here (not a directory)")
        probe = write_atomic(out / ".ticket-audit-write-test", b"")
        probe.unlink()
    except OutputError as exc:
        raise AuditFailed(f"output directory: {exc}", input_error=True) from None
    remove_stale_temporaries(out)


def _fail_orphaned_cli_runs(instance: dg.DagsterInstance, duckdb_tag: dict[str, str]) -> None:
    """Mark earlier CLI runs of this file that never finished (killed) as failed.

    Holding the audit lock proves no other CLI audit of this file is alive, and a run left
    STARTED would hold the run queue's slot for this DuckDB file indefinitely.
    """
    from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, RunsFilter

    runs = instance.get_runs(
        RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES, tags={CLI_TAG: "true", **duckdb_tag})
    )
    for orphan in runs:
        instance.report_run_failed(
            orphan, "the command-line audit running this was interrupted (process ended)"
        )


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
    out = Path(output_dir).resolve() if output_dir else Path(cfg.output_dir).resolve()
    duckdb_path = Path(cfg.duckdb_path).resolve()
    with audit_lock(duckdb_path):
        _check_output_dir(out)
        return _run_stages(cfg, out, duckdb_path, show_progress, verbose, instance)


def _run_stages(cfg, out: Path, duckdb_path: Path, show_progress, verbose, instance) -> AuditRun:

    from pipelines.definitions import defs as lazy_defs
    from pipelines.defs.jobs import DUCKDB_TAG, duckdb_tag_value
    from pipelines.defs.partitions import monthly_partitions

    defs = lazy_defs() if callable(lazy_defs) else lazy_defs
    graph = defs.resolve_asset_graph()
    job = defs.resolve_implicit_global_asset_job_def()
    instance = instance or dagster_instance()
    duckdb_tag = {DUCKDB_TAG: duckdb_tag_value(duckdb_path)}
    _fail_orphaned_cli_runs(instance, duckdb_tag)
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
            # The DuckDB tag makes the daemon's run queue hold back scheduled runs of this
            # file while the CLI audit is in progress (dagster.yaml).
            tags = {CLI_TAG: "true", **duckdb_tag}
            if graph.get(group[0]).partitions_def is not None:
                month_range = month_range or _month_range(cfg, monthly_partitions)
                if month_range is None:
                    bar.update(1)
                    continue
                tags["dagster/asset_partition_range_start"] = month_range[0]
                tags["dagster/asset_partition_range_end"] = month_range[1]
            started = time.perf_counter()
            result = job.execute_in_process(
                instance=instance,
                asset_selection=group,
                tags=tags,
                run_config=run_config,
                raise_on_error=False,
            )
            run.stage_seconds[names] = time.perf_counter() - started
            run.run_ids.append(result.run_id)
            if not result.success:
                raise _failure_message(result, out, duckdb_path)
            run.assets.extend(k.to_user_string() for k in group)
            bar.update(1)
    finally:
        bar.close()
    return run
