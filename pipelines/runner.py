"""Runs the whole audit in-process: the same Dagster assets the UI shows, without a UI.

Two runs of Dagster's in-process executor: the first loads the sources, the second
materializes every other asset in dependency order, the per-month ones once over the range
of months that changed since the last complete audit (a single-run backfill; every month on
a first audit). Dagster orders and runs the stages; this module only chooses the two
selections, follows the runs' events (a progress bar per stage) and turns a failed step into
one line that names the stage.

A command-line audit holds an exclusive lock on its DuckDB file for its whole duration (a
second audit of the same file stops at once with a message naming the file and the holder),
checks that the output directory takes files before any work, and clears temporaries that a
killed earlier audit left there.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from tqdm import tqdm

from pipelines.settings import CONFIG_ENV, OUTPUT_ENV
from reports.files import OutputError, remove_stale_temporaries, write_atomic
from ticket_audit import month_changes
from ticket_audit.config import load_config
from ticket_audit.locks import Timeout, holder, holder_lock
from ticket_audit.store import long_lived_frozen, open_store

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


def _month_range(
    cfg, partitions: dg.MonthlyPartitionsDefinition, settings: str | None = None
) -> tuple[tuple[str, str] | None, dict]:
    """(partition range of the months that changed since the last complete audit under
    `settings`, or of every month holding tickets when `settings` is None; None if there are
    none; the months' fingerprints, to record once this audit completes)."""
    with open_store(cfg.duckdb_path, memory_limit=cfg.audit.memory_limit) as con:
        current = month_changes.current_fingerprints(con)
        changed = None if settings is None else month_changes.changed_months(con, current, settings)
    months = sorted(current) if changed is None else changed
    if not months:
        return None, current
    keys = partitions.get_partition_keys()
    # Months outside the partition set belong to its edge partitions (partitions.py).
    lo_key = min(max(keys[0], months[0].isoformat()), keys[-1])
    hi_key = max(min(keys[-1], months[-1].isoformat()), keys[0])
    return (lo_key, hi_key), current


def _record_months(cfg, current: dict, settings: str) -> None:
    with open_store(cfg.duckdb_path) as con:
        month_changes.record(con, current, settings)


@contextmanager
def _exclusive(lock_path: Path, busy: str) -> Iterator[None]:
    """Held for the whole audit; fails at once, naming the holder, if another process holds
    it. The kernel releases the lock when its holder dies, so a killed audit never leaves it
    locked."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    lock = holder_lock(lock_path, f"started {started}")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise AuditFailed(busy.format(holder=holder(lock_path)), input_error=True) from None
    try:
        yield
    finally:
        lock.release()


def audit_lock(duckdb_path: Path):
    """Exclusive for the whole audit of a DuckDB file.

    The store's own lock waits (TICKET_AUDIT_LOCK_TIMEOUT) for whoever holds the database;
    a second audit of the same file should be told at once instead, with who holds it.
    """
    return _exclusive(
        duckdb_path.with_name(duckdb_path.name + ".audit.lock"),
        f"{duckdb_path}: another audit is already running on this DuckDB file ({{holder}}). "
        "Two audits must not write the same DuckDB file at once: wait for it to finish, or "
        "point audit.duckdb_path elsewhere.",
    )


OUTPUT_LOCK = ".ticket-audit.lock"


def output_lock(out: Path):
    """Exclusive for the audit writing an output directory: two audits of different DuckDB
    files writing the same --output would overwrite each other's reports file by file."""
    return _exclusive(
        out / OUTPUT_LOCK,
        f"{out}: another audit is writing this output directory ({{holder}}). Two audits "
        "must not write the same output directory at once: wait for it, or give another "
        "--output.",
    )


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


# Runs that have not ended (Dagster's own "in progress" statuses).
IN_PROGRESS = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
    dg.DagsterRunStatus.SUSPENDED,
]


def _fail_orphaned_cli_runs(instance: dg.DagsterInstance, duckdb_tag: dict[str, str]) -> None:
    """Mark earlier CLI runs of this file that never finished (killed) as failed.

    Holding the audit lock proves no other CLI audit of this file is alive, and a run left
    STARTED would hold the run queue's slot for this DuckDB file indefinitely.
    """
    runs = instance.get_runs(
        dg.RunsFilter(statuses=IN_PROGRESS, tags={CLI_TAG: "true", **duckdb_tag})
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
    saved_env = {name: os.environ.get(name) for name in (CONFIG_ENV, OUTPUT_ENV)}
    os.environ[CONFIG_ENV] = str(Path(config_path).resolve())
    if output_dir is not None:
        os.environ[OUTPUT_ENV] = str(Path(output_dir).resolve())
    out = Path(output_dir).resolve() if output_dir else Path(cfg.output_dir).resolve()
    duckdb_path = Path(cfg.duckdb_path).resolve()
    try:
        with audit_lock(duckdb_path):
            _check_output_dir(out)
            with output_lock(out):
                return _run_stages(cfg, out, duckdb_path, show_progress, verbose, instance)
    except OSError as exc:
        # Outside a stage (the locks' holder lines, the runner's own files) a full disk is
        # the user's to fix like inside one: exit 2 naming the volume.
        if exc.errno != errno.ENOSPC:
            raise
        raise AuditFailed(_disk_full_hint(str(exc), out, duckdb_path), input_error=True) from None
    finally:
        # The audit's settings are this call's; a later audit in the same process (tests,
        # notebooks) must not inherit them.
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_config_for(verbose: bool) -> dict:
    # A failed step is reported by the command line in one line (AuditFailed); Dagster's own
    # ERROR record of it is a traceback of 80 lines, shown only with -v.
    return {} if verbose else {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def import_stage_libraries() -> None:
    """The stages' slow imports; the definitions leave them to the stages
    (docs/architecture.md). Plain imports, so the import contracts see them."""
    import expectations.runner  # noqa: F401
    import ticket_audit.pii.redact_tickets  # noqa: F401
    import ticket_audit.pii.scan_tickets  # noqa: F401


def _run_stages(cfg, out: Path, duckdb_path: Path, show_progress, verbose, instance) -> AuditRun:
    from pipelines.definitions import defs as lazy_defs

    instance = instance or dagster_instance()
    # What the months' results depend on (tuning settings left out), and where they went.
    settings = f"{cfg.results_json()}|{out}"
    defs = lazy_defs() if callable(lazy_defs) else lazy_defs
    # The definitions leave these to the stages that use them; every audit does, and
    # imported before the freeze their objects stay out of the full collections between
    # stages.
    import_stage_libraries()
    # Libraries and definitions are loaded now and live as long as the audit.
    with long_lived_frozen():
        return _run_loaded(defs, cfg, out, duckdb_path, show_progress, verbose, instance, settings)


def _stage_groups(graph) -> list[list[dg.AssetKey]]:
    """Materializable keys grouped by the definition that computes them, in dependency order."""
    groups: list[list[dg.AssetKey]] = []
    seen: set[dg.AssetKey] = set()
    for key in graph.toposorted_asset_keys:
        node = graph.get(key)
        if not node.is_materializable or key in seen:
            continue
        group = [k for k in node.assets_def.keys if graph.get(k).is_materializable]
        seen.update(group)
        groups.append(group)
    return groups


class StepEvents:
    """Follows a run's events as they are stored: `on_start(step)` and `on_end(step,
    seconds)` for each stage."""

    def __init__(self, on_start, on_end):
        self.on_start, self.on_end, self.started = on_start, on_end, {}

    def __call__(self, entry) -> None:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[event.step_key] = entry.timestamp
            self.on_start(event.step_key)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            started = self.started.get(event.step_key, entry.timestamp)
            self.on_end(event.step_key, entry.timestamp - started)


def _progress(bar: tqdm, run: AuditRun) -> StepEvents:
    """The progress bar and the stage times of `run`."""

    def on_end(step_key: str, seconds: float) -> None:
        run.stage_seconds[step_key] = seconds
        bar.update(1)

    return StepEvents(lambda step_key: bar.set_postfix_str(step_key[:60]), on_end)


def _run_loaded(
    defs, cfg, out: Path, duckdb_path: Path, show_progress, verbose, instance, settings
) -> AuditRun:
    from pipelines.defs.jobs import DUCKDB_TAG, duckdb_tag_value
    from pipelines.defs.partitions import monthly_partitions

    graph = defs.resolve_asset_graph()
    job = defs.resolve_implicit_global_asset_job_def()
    duckdb_tag = {DUCKDB_TAG: duckdb_tag_value(duckdb_path)}
    _fail_orphaned_cli_runs(instance, duckdb_tag)
    run_config = run_config_for(verbose)

    # Two runs, not one per stage: each run costs about a second of Dagster bookkeeping
    # (a fresh SQLite event database, run and plan snapshots), which dominated small
    # incremental audits. The first run loads the sources; the month range of the per-month
    # stages is known only after it. The second runs every other stage over that range.
    groups = _stage_groups(graph)
    partitioned = {k for g in groups for k in g if graph.get(k).partitions_def is not None}
    feeding, after_months = set(), set()
    if partitioned:
        months = dg.AssetSelection.assets(*partitioned)
        feeding = months.upstream().resolve(graph) - partitioned
        after_months = months.downstream().resolve(graph)
    # A stage that both follows and feeds per-month stages stays in the second run, which
    # orders everything it holds.
    first = [g for g in groups if set(g) <= feeding and after_months.isdisjoint(g)] or groups
    rest = [g for g in groups if g not in first]

    # Per-month stages redo only the months that changed since the last complete audit under
    # the same settings (ticket_audit/month_changes.py); output files belong to the settings.
    fingerprints = None
    run = AuditRun(out)
    # A progress bar redraws with carriage returns: only on a terminal, never into a log file.
    bar = tqdm(
        total=len(groups),
        desc="audit",
        unit="stage",
        disable=not show_progress or not sys.stderr.isatty(),
    )
    progress = _progress(bar, run)
    # The DuckDB tag makes the daemon's run queue hold back scheduled runs of this file
    # while the CLI audit is in progress (dagster.yaml).
    tags = {CLI_TAG: "true", **duckdb_tag}

    def execute(selection: list[list[dg.AssetKey]], run_tags: dict[str, str]) -> None:
        run_id = str(uuid.uuid4())  # known before the run starts, for the event listener
        instance.add_event_listener(run_id, progress)
        result = job.execute_in_process(
            instance=instance,
            asset_selection=[k for g in selection for k in g],
            tags=run_tags,
            run_config=run_config,
            raise_on_error=False,
            run_id=run_id,
        )
        run.run_ids.append(result.run_id)
        if not result.success:
            raise _failure_message(result, out, duckdb_path)
        run.assets.extend(k.to_user_string() for g in selection for k in g)

    try:
        for index, selection in enumerate((first, rest)):
            run_tags = dict(tags)
            month_range = None
            if index == 1 and partitioned:
                month_range, fingerprints = _month_range(cfg, monthly_partitions, settings)
                if month_range is None:  # no month changed: the per-month stages have no work
                    skipped = [g for g in selection if set(g) <= partitioned]
                    bar.update(len(skipped))
                    selection = [g for g in selection if g not in skipped]
                else:
                    run_tags["dagster/asset_partition_range_start"] = month_range[0]
                    run_tags["dagster/asset_partition_range_end"] = month_range[1]
            if selection:
                execute(selection, run_tags)
        if fingerprints is not None:
            _record_months(cfg, fingerprints, settings)
    finally:
        bar.close()
    return run
