"""The helper process of the audit's second lane (lanes.py): `python -m pipelines.lane_worker
FD INSTANCE_REF verbose|quiet`.

Loads everything its stages need while the audit loads the sources, then waits for one
request on stdin: a Dagster run to execute (assets and tags) or stop. Progress and the
result go to the pipe FD as JSON lines; the run itself is stored in the audit's instance
like any other, and shows in the UI beside the audit's other runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import signal
import sys
from pathlib import Path

LIBRARIES = ("expectations.runner",)  # what the quality stages import (seconds)
PR_SET_PDEATHSIG = 1
LANE_NICENESS = 10


def _end_with_parent() -> None:
    """A killed audit takes its helper along: nothing writes the DuckDB file afterwards."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the helper ends when its run does
    if os.getppid() == 1:  # the parent was already gone before the call above
        os._exit(1)


def main(argv: list[str]) -> int:
    _end_with_parent()
    # The audit's own process runs the longer chain (the PII stages); this one fills the
    # core time that chain leaves idle rather than slowing it (its stages hold the store
    # only briefly, so a lower priority never holds up the other lane for long).
    os.nice(LANE_NICENESS)
    channel = os.fdopen(int(argv[0]), "w", buffering=1, encoding="utf-8")

    def send(**message) -> None:
        channel.write(json.dumps(message) + "\n")

    import importlib

    import dagster as dg
    from dagster._core.instance.ref import InstanceRef
    from dagster._core.utils import make_new_run_id

    from pipelines.definitions import defs as lazy_defs
    from pipelines.runner import StepEvents, _failure_message, run_config_for
    from ticket_audit.store import long_lived_frozen

    instance = dg.DagsterInstance.from_ref(dg.deserialize_value(argv[1], InstanceRef))
    defs = lazy_defs() if callable(lazy_defs) else lazy_defs
    job = defs.resolve_implicit_global_asset_job_def()
    for name in LIBRARIES:
        importlib.import_module(name)
    with long_lived_frozen():
        request = json.loads(sys.stdin.readline() or '{"stop": true}')
        if request.get("stop"):
            return 0
        run_id = make_new_run_id()
        instance.add_event_listener(
            run_id,
            StepEvents(
                lambda step_key: send(start=step_key),
                lambda step_key, seconds: send(end=step_key, seconds=seconds),
            ),
        )
        result = job.execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey.from_user_string(a) for a in request["assets"]],
            tags=request["tags"],
            run_config=run_config_for(argv[2] == "verbose"),
            raise_on_error=False,
            run_id=run_id,
        )
        outcome = {"run_id": run_id, "success": result.success}
        if not result.success:
            out, duckdb_path = map(Path, request["failure_paths"])
            failed = _failure_message(result, out, duckdb_path)
            outcome.update(message=str(failed), input_error=failed.input_error)
        send(result=outcome)
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # As the audit itself does (cli.entry): no interpreter teardown of what was loaded.
    os._exit(code)
