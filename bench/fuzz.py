"""The file loader's property-based fuzz suite, run long: the CI suite's properties
(tests/connectors/test_fuzz_loader.py) with many more random examples each.

    python -m bench fuzz [--examples 2000] [--seed N]

CI runs a bounded, derandomised handful per property; this draws fresh random examples
(`--seed` to replay a run) and shrinks any failure to a minimal example. It prints a table
per property: examples, outcome and examples per second (the baseline row is the CI
profile's bounded run in the same process environment, for scale).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import table

REPO = Path(__file__).resolve().parents[1]
TESTS = "tests/connectors/test_fuzz_loader.py"
PROPERTIES = [
    "test_csv_damage_costs_only_the_damaged_record",
    "test_a_truncated_csv_keeps_every_whole_record",
    "test_jsonl_damage_costs_only_the_damaged_line",
]


def _run(name: str, profile: str, examples: int, seed: str | None) -> tuple[str, float, str]:
    env = {
        **os.environ,
        "TICKET_AUDIT_FUZZ_PROFILE": profile,
        "TICKET_AUDIT_FUZZ_EXAMPLES": str(examples),
    }
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{TESTS}::{name}"]
    if seed is not None:
        args.append(f"--hypothesis-seed={seed}")
    started = time.perf_counter()
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    return ("passed" if done.returncode == 0 else "FAILED"), seconds, done.stdout + done.stderr


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench fuzz")
    p.add_argument("--examples", type=int, default=2000)
    p.add_argument("--seed", default=None)
    args = p.parse_args(argv)
    rows, failed = [], []
    for name in PROPERTIES:
        for profile, n in (("ci", 15), ("long", args.examples)):
            outcome, seconds, output = _run(name, profile, n, args.seed)
            rows.append([name.removeprefix("test_"), profile, n, outcome, seconds, n / seconds])
            if outcome != "passed":
                failed.append(output)
    print(table(["property", "profile", "examples", "outcome", "seconds", "examples/s"], rows))
    for output in failed:
        print(output[-6000:], file=sys.stderr)
    return 1 if failed else 0
