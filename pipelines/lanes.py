"""A second lane for the command-line audit: the quality stages in a process of their own.

The stages run one at a time in the audit's process, and a weekly re-audit left about a
third of two cores idle that way: the PII chain (scan, redaction, residual scan, exposure
report) is mostly Python, and the quality chain (duplicates, checks, reply variability,
label consistency, summary) never waits for it. With a lane, a helper process started
before the sources are loaded imports Dagster, the definitions and Great Expectations while
the sources load, then runs the quality stages as a Dagster run of its own, at a lower CPU
priority, while this process runs the PII chain; the stages that need both (the readiness
scorecard) run last, here.

Stages already share the DuckDB file this way: each holds it only to read or to write
(store.open_store waits for the other), never while it computes.

The helper speaks JSON lines: it reads one request on stdin (a run to execute, or stop) and
writes progress and its result on a pipe of its own; its stdout and stderr are the audit's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import duckdb

from ticket_audit.config import AuditConfig
from ticket_audit.store import StoreBusyError, open_store

if TYPE_CHECKING:  # the runner imports this module
    from pipelines.runner import StepEvents

# Assets of this group run in the lane, with every stage of the second run they feed after.
LANE_GROUP = "quality"
# "auto": a re-audit of at least this many tickets whose changed months hold at most this
# share of them. Below it the stages take less than the helper takes to start; above it the
# two lanes' memory would add up as in a first audit.
AUTO_MIN_TICKETS = 100_000
AUTO_MAX_CHANGED_SHARE = 0.25
LANE_MODULE = "pipelines.lane_worker"
# Seconds an interrupted audit waits for the helper's run to end before killing it.
HELPER_STOP_S = 60.0


@dataclass
class Split:
    here: list[list[dg.AssetKey]]  # stage groups this process runs beside the lane
    lane: list[list[dg.AssetKey]]  # stage groups the helper runs
    after: list[list[dg.AssetKey]]  # stage groups that need the lane's results

    @property
    def useful(self) -> bool:
        return bool(self.here) and bool(self.lane)


def split(graph, groups: list[list[dg.AssetKey]]) -> Split:
    """`groups` (one run's stage groups, in dependency order) split into what runs here,
    in the lane and after both. A lane stage depends only on lane stages or on stages of an
    earlier run; everything downstream of the lane waits for it."""
    selected = {k for g in groups for k in g}
    lane: set[dg.AssetKey] = set()
    for g in groups:
        parents = {p for k in g for p in graph.get(k).parent_keys} & selected
        if all(graph.get(k).group_name == LANE_GROUP for k in g) and parents <= lane:
            lane.update(g)
    downstream = (
        dg.AssetSelection.assets(*lane).downstream().resolve(graph) - lane if lane else set()
    )
    return Split(
        here=[g for g in groups if not set(g) & (lane | downstream)],
        lane=[g for g in groups if set(g) <= lane],
        after=[g for g in groups if set(g) & downstream],
    )


@dataclass
class LaneResult:
    run_id: str | None = None
    success: bool = False
    message: str = ""
    input_error: bool = False


class Lane:
    """The helper process, from its start (before the sources load) to its result."""

    def __init__(self, instance: dg.DagsterInstance, verbose: bool):
        read_fd, self._write_fd = os.pipe()
        self._reader = os.fdopen(read_fd, "r", encoding="utf-8")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                LANE_MODULE,
                str(self._write_fd),
                dg.serialize_value(instance.get_ref()),
                "verbose" if verbose else "quiet",
            ],
            stdin=subprocess.PIPE,
            pass_fds=(self._write_fd,),
            text=True,
        )
        os.close(self._write_fd)
        self.result = LaneResult()
        self._thread: threading.Thread | None = None

    def run(
        self,
        keys: list[dg.AssetKey],
        tags: dict[str, str],
        progress: StepEvents,
        failure_paths: tuple[Path, Path],
    ) -> None:
        """Hand the helper its run; its stages' starts and ends reach `progress` from a
        thread of this process. `failure_paths` (output directory,
        DuckDB file) are what a failure message names."""
        request = {
            "assets": [k.to_user_string() for k in keys],
            "tags": tags,
            "failure_paths": [str(p) for p in failure_paths],
        }
        self._send(request)
        self._thread = threading.Thread(
            target=self._follow, args=(progress,), daemon=True, name="audit-lane"
        )
        self._thread.start()

    def _follow(self, progress) -> None:
        for line in self._reader:
            message = json.loads(line)
            if "start" in message:
                progress.on_start(message["start"])
            elif "end" in message:
                progress.on_end(message["end"], message["seconds"])
            elif "result" in message:
                self.result = LaneResult(**message["result"])

    def wait(self) -> LaneResult:
        if self._thread is not None:
            self._thread.join()
        code = self.proc.wait()
        if code != 0 and not self.result.message:
            self.result = LaneResult(
                success=False, message=f"the quality stages' process ended with exit code {code}"
            )
        self._reader.close()
        return self.result

    def stop(self) -> None:
        """No run for the helper (or the audit ended first): a helper without a run has
        written nothing yet and is ended at once; one with a run is waited for."""
        if self._thread is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=HELPER_STOP_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.close()

    def _send(self, message: dict) -> None:
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # the helper is gone; wait() reports its exit code


def wanted(cfg: AuditConfig, settings: str, instance: dg.DagsterInstance) -> bool:
    """Whether to start the helper, before the sources load. `auto`: when this looks like a
    re-audit of a large history (a complete audit under the same settings, enough tickets)."""
    mode = cfg.audit.concurrent_stages
    if mode == "off" or not instance.is_persistent:  # the helper needs the same instance
        return False
    if mode == "on":
        return True
    if not Path(cfg.duckdb_path).exists():  # a first audit
        return False
    try:
        # Not waiting: a busy or unwritable store is the first stage's to report, with its
        # name and what to do; without a look at it, the audit runs in one process.
        with open_store(cfg.duckdb_path, timeout=0) as con:
            tickets = con.execute("SELECT count(*) FROM canonical.tickets").fetchall()[0][0]
            recorded = con.execute(
                "SELECT count(*) FROM audit.month_fingerprints WHERE settings = ?", [settings]
            ).fetchall()[0][0]
    except (duckdb.Error, StoreBusyError, OSError):  # also: nothing audited in this file yet
        return False
    return recorded > 0 and tickets >= AUTO_MIN_TICKETS


def worth_it(
    cfg: AuditConfig, month_range: tuple[str, str] | None, partitions: dg.PartitionsDefinition
) -> bool:
    """Once the changed months are known: `auto` runs the lanes side by side only when those
    months hold a small share of the tickets (the lanes' memory adds up)."""
    if month_range is None:
        return False
    if cfg.audit.concurrent_stages == "on":
        return True
    keys = partitions.get_partition_keys()
    # Months outside the partition set belong to its edge partitions (partitions.py).
    low = "TRUE" if month_range[0] == keys[0] else f"created_month >= DATE '{month_range[0]}'"
    high = "TRUE" if month_range[1] == keys[-1] else f"created_month <= DATE '{month_range[1]}'"
    with open_store(cfg.duckdb_path) as con:
        changed, tickets = con.execute(
            f"SELECT count(*) FILTER (WHERE {low} AND {high}), count(*) FROM canonical.tickets"
        ).fetchall()[0]
    return tickets > 0 and changed / tickets <= AUTO_MAX_CHANGED_SHARE
