"""A sensor that starts an audit when a new export file lands in a watched folder.

Off by default (turn it on in the UI or with `dagster sensor start export_file_sensor`).
The folder is $TICKET_AUDIT_WATCH_DIR, or else the paths of the configured file sources.
The cursor is the set of files seen (name, size, modification time), so a new file or a
re-exported one starts one audit, and a file still being written (modified within the last
TICKET_AUDIT_WATCH_SETTLE_S seconds, default 30) waits for a later tick.
"""

import glob
import hashlib
import json
import os
import time
from pathlib import Path

import dagster as dg

from pipelines.defs.audit_job import audit_job, full_audit_tags
from pipelines.settings import config_path
from ticket_audit.config import ConfigError, FileSource, load_config

WATCH_ENV = "TICKET_AUDIT_WATCH_DIR"
SETTLE_ENV = "TICKET_AUDIT_WATCH_SETTLE_S"
EXPORT_SUFFIXES = {".csv", ".jsonl", ".ndjson", ".parquet"}


def watched_paths() -> list[Path]:
    """The watched folder, or the configured file sources' paths (files, folders, globs)."""
    if os.environ.get(WATCH_ENV):
        return [Path(os.environ[WATCH_ENV])]
    try:
        cfg = load_config(config_path())
    except ConfigError:
        return []
    paths = []
    for source in cfg.sources:
        if isinstance(source, FileSource):
            paths += [cfg.resolve(e.path) for e in source.entries()]
            if source.mapping.messages.file is not None:
                paths.append(cfg.resolve(source.mapping.messages.file.path))
    return paths


def export_files(paths: list[Path]) -> dict[str, str]:
    """{file: "size:mtime_ns"} for every export file under the watched paths."""
    found: dict[str, str] = {}
    for path in paths:
        if path.is_dir():
            candidates = [p for p in path.iterdir() if p.is_file()]
        elif any(ch in str(path) for ch in "*?["):
            candidates = [Path(p) for p in glob.glob(str(path)) if Path(p).is_file()]
        else:
            candidates = [path] if path.is_file() else []
        for p in candidates:
            if p.suffix.lower() in EXPORT_SUFFIXES and not p.name.startswith("."):
                st = p.stat()
                found[str(p.resolve())] = f"{st.st_size}:{st.st_mtime_ns}"
    return found


@dg.sensor(
    job=audit_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Starts the audit when a new or re-exported ticket file lands in the watched "
    "folder ($TICKET_AUDIT_WATCH_DIR or the file sources' paths).",
)
def export_file_sensor(context: dg.SensorEvaluationContext):
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    paths = watched_paths()
    if not paths:
        return dg.SkipReason(f"nothing to watch: set {WATCH_ENV} or configure a file source")
    settle_ns = int(float(os.environ.get(SETTLE_ENV, "30")) * 1e9)
    now_ns = time.time_ns()
    current = export_files(paths)
    settled = {f: v for f, v in current.items() if now_ns - int(v.split(":")[1]) >= settle_ns}
    new = {f: v for f, v in settled.items() if seen.get(f) != v}
    if not new:
        waiting = len(current) - len(settled)
        return dg.SkipReason(
            "no new export files" + (f" ({waiting} still being written)" if waiting else "")
        )
    tags = full_audit_tags()
    if tags is None:
        return dg.SkipReason("no monthly partitions: check audit.partitions_start")
    # Files that vanished leave the cursor; the ones still settling join on a later tick.
    cursor = {f: v for f, v in seen.items() if f in current}
    cursor.update(settled)
    key = hashlib.sha256(json.dumps(new, sort_keys=True).encode()).hexdigest()[:16]
    names = ", ".join(sorted(Path(f).name for f in new))
    context.log.info(f"new export file(s): {names}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"export-{key}",
                tags={**tags, "ticket_audit/trigger": "export_file_sensor"},
            )
        ],
        cursor=json.dumps(cursor, sort_keys=True),
    )
