"""The full audit of a generated history through the CLI, then a weekly incremental re-audit.

    python -m bench full_audit [--tickets 1000000] [--months 12] [--increment 25000]
    python -m bench full_audit --reaudit-only --against DIR [--rounds 3] [--tickets ...]

`--against DIR` times the re-audit of this tree and of the code in DIR (a baseline, e.g.
`git archive <commit> | tar -x -C DIR`) alternately from the same kept state, `--rounds`
times each (ABBA order, so a change in the machine's load falls on both), and prints both
with the ratio: the before/after of a change in the same run.

1. A history of N tickets with conversations over 12 months (cached under bench/results/)
   is audited from scratch by `ticket-audit run` in a subprocess, as the data team runs it.
2. A second export file of the same source with `--increment` new tickets (a week of new
   tickets in the last month) is added and the same command runs again: unchanged files are
   skipped and the per-month stages only redo the month that changed.

Per stage: seconds (Dagster step statistics of the CLI's runs), throughput (tickets in the
store per second of that stage) and the peak resident memory of the audit's process tree
while the stage ran (sampled from /proc; forked workers counted with their proportional
share, PSS). Goals on a 2-core machine: full audit < 20 min and < 4 GB, the incremental
audit < 60 s.

The probe is not free: reading a process's PSS walks its page tables under the lock that
its own memory mapping takes, and sampled every 0.25 s it added 3 to 9 s to a 52 s
re-audit. Memory is sampled every second during the full audit, where the memory goal is,
and every 5 s during the re-audit; each process's own peak (VmHWM) is exact either way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from bench.common import RESULTS, cached_history, table

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FULL_GOAL_S, FULL_GOAL_MB, INCREMENT_GOAL_S = 20 * 60, 4096, 60


class TreeMemory(threading.Thread):
    """Samples the memory of a process and all its descendants (Linux /proc, no psutil)."""

    def __init__(self, pid: int, interval: float = 0.25, cap_mb: float | None = None):
        super().__init__(daemon=True)
        self.pid, self.interval, self.cap_mb = pid, interval, cap_mb
        self.samples: list[tuple[float, float]] = []  # (unix time, MB)
        self.largest_mb = 0.0  # largest single process (its own peak, VmHWM)
        self.capped = False
        self._halt = threading.Event()

    @staticmethod
    def _children() -> dict[int, list[int]]:
        tree: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat") as fh:
                    stat = fh.read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry.name))
        return tree

    @staticmethod
    def _proc_kb(pid: int, name: str, key: str) -> int:
        """A `key:` line of /proc/<pid>/<name>, in kB (0 when the process is gone)."""
        try:
            with open(f"/proc/{pid}/{name}") as fh:
                for line in fh:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def tree_mb(self) -> float:
        tree, todo, total = self._children(), [self.pid], 0
        while todo:
            pid = todo.pop()
            # PSS splits pages shared by forked workers between them, so summing over the
            # tree does not count the parent's model copies once per child.
            total += self._proc_kb(pid, "smaps_rollup", "Pss:")
            # VmHWM: the process's own peak, also between two samples.
            hwm = self._proc_kb(pid, "status", "VmHWM:")
            self.largest_mb = max(self.largest_mb, hwm / 1024)
            todo += tree.get(pid, [])
        return total / 1024

    def run(self) -> None:
        while not self._halt.is_set():
            mb = self.tree_mb()
            self.samples.append((time.time(), mb))
            if self.cap_mb and mb > self.cap_mb and not self.capped:
                # The machine is shared: an audit that outgrows the cap is stopped, not left
                # to push other work into the kernel's OOM killer.
                self.capped = True
                os.killpg(self.pid, signal.SIGKILL)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak(self, start: float | None = None, end: float | None = None) -> float:
        values = [
            mb
            for t, mb in self.samples
            if (start is None or t >= start - self.interval) and (end is None or t <= end)
        ]
        return max(values, default=0.0)


@dataclass
class AuditMeasurement:
    label: str
    seconds: float
    exit_code: int
    peak_tree_mb: float
    max_process_mb: float
    tickets: int
    stages: list[dict] = field(default_factory=list)


def _stage_rows(home: Path, since: float, memory: TreeMemory) -> list[dict]:
    """Per-step start/end of the CLI's runs since `since`, from the Dagster instance."""
    import dagster as dg

    rows = []
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = [r for r in instance.get_run_records() if (r.start_time or 0) >= since]
        for rec in sorted(records, key=lambda r: r.start_time):
            for step in instance.get_run_step_stats(rec.dagster_run.run_id):
                if step.start_time is None or step.end_time is None:
                    continue
                rows.append(
                    {
                        "stage": step.step_key,
                        "seconds": step.end_time - step.start_time,
                        "start": step.start_time,
                        "end": step.end_time,
                        "run_seconds": (rec.end_time or step.end_time) - rec.start_time,
                        "peak_mb": memory.peak(step.start_time, step.end_time),
                        "status": step.status.value if step.status else "?",
                    }
                )
    return rows


def _tickets_in_store(db_path: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM canonical.tickets").fetchone()[0]
    finally:
        con.close()


FULL_SAMPLE_S, INCREMENT_SAMPLE_S = 1.0, 5.0


def _settle() -> None:
    """Let the copies just made reach the disk before a timed run, not during it."""
    os.sync()
    time.sleep(2)


def _audit(
    label: str,
    config: Path,
    work: Path,
    cap_mb: float | None,
    sample_s: float,
    code: Path | None = None,
) -> AuditMeasurement:
    env = {**os.environ, "DAGSTER_HOME": str(work / "home")}
    env.setdefault("TICKET_AUDIT_HASH_KEY", "bench-not-a-secret")
    command, cwd = [str(BIN / "ticket-audit")], REPO
    if code is not None:  # the same command, with another checkout's packages first
        # Run from that checkout: `python -c` and `python -m` (a helper process the baseline
        # starts) put the working directory ahead of PYTHONPATH, and from this tree they
        # imported this tree's code. Checked by the `code:` line of the log.
        env["PYTHONPATH"] = str(code.resolve())
        cwd = code.resolve()
        command = [
            sys.executable,
            "-c",
            "import pipelines; print('code:', pipelines.__file__, flush=True); "
            "from pipelines.cli import entry; entry()",
        ]
    started = time.time()
    log = (work / f"{label}.log").open("w")
    proc = subprocess.Popen(
        [*command, "run", "--config", str(config)],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    memory = TreeMemory(proc.pid, interval=sample_s, cap_mb=cap_mb)
    memory.start()
    exit_code = proc.wait()
    memory.stop()
    seconds = time.time() - started
    log.close()
    if memory.capped:
        raise SystemExit(
            f"{label} audit stopped: its processes used more than {cap_mb:,.0f} MB "
            f"(--memory-cap-mb) after {seconds:,.0f} s; see {work / (label + '.log')}"
        )
    if exit_code not in (0, 1):
        tail = (work / f"{label}.log").read_text()[-3000:]
        raise SystemExit(f"{label} audit failed (exit {exit_code}):\n{tail}")
    if code is not None and f"code: {code.resolve()}/" not in (work / f"{label}.log").read_text():
        raise SystemExit(f"{label} audit did not run the code in {code}")
    return AuditMeasurement(
        label=label,
        seconds=seconds,
        exit_code=exit_code,
        peak_tree_mb=memory.peak(),
        # Not ru_maxrss of the children: it also counts processes this benchmark ran before
        # (the history generator's), whatever the audit used.
        max_process_mb=memory.largest_mb,
        tickets=_tickets_in_store(work / "db" / "audit.duckdb"),
        stages=_stage_rows(work / "home", started, memory),
    )


def _increment(tickets: int, seed: int) -> tuple[Path, Path]:
    """A week of new tickets for the last month of the history, with ids of their own."""
    import polars as pl

    from ticket_audit.generator import GeneratorSpec, generate_history

    directory = RESULTS / f"increment_{tickets}_s{seed}"
    out_t, out_m = directory / "tickets_new.csv", directory / "messages_new.csv"
    if out_t.exists() and out_m.exists():
        return out_t, out_m
    raw = directory / "generated"
    hist = generate_history(
        GeneratorSpec(tickets=tickets, months=1, end_month=date(2026, 10, 1), seed=seed), raw
    )
    for src, dst in ((hist.tickets_path, out_t), (hist.messages_path, out_m)):
        frame = pl.read_csv(src, infer_schema=False)
        # The generator numbers every history from NB-0000001; new exports must not collide.
        frame = frame.with_columns(pl.col("ticket_id").str.replace("^NB-", "NBW-"))
        frame.write_csv(dst)
    shutil.rmtree(raw)
    return out_t, out_m


def _prepare(hist, work: Path) -> Path:
    """Working directory: exports as files of one source (symlinks), fresh store and output."""
    for name in ("db", "out", "home", "exports"):
        shutil.rmtree(work / name, ignore_errors=True)
    exports = work / "exports"
    exports.mkdir(parents=True)
    (exports / "tickets_0001.csv").symlink_to(hist.tickets_path)
    (exports / "messages_0001.csv").symlink_to(hist.messages_path)
    (work / "home").mkdir()
    shutil.copy(REPO / "dagster.yaml", work / "home" / "dagster.yaml")
    data = yaml.safe_load(hist.config_path.read_text())
    data["audit"].update(
        duckdb_path=str(work / "db" / "audit.duckdb"), output_dir=str(work / "out")
    )
    source = data["sources"][0]
    source["path"] = str(exports / "tickets_*.csv")
    source["mapping"]["messages"]["file"]["path"] = str(exports / "messages_*.csv")
    config = work / "audit.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    return config


_STATE = ("db", "out", "home", "exports")


def _keep(work: Path) -> None:
    """Copy of the state after the full audit, so the re-audit alone can be measured again."""
    kept = work / "after_full"
    shutil.rmtree(kept, ignore_errors=True)
    for name in _STATE:
        shutil.copytree(work / name, kept / name, symlinks=True)


def _restore(work: Path) -> Path:
    kept = work / "after_full"
    if not kept.is_dir():
        raise SystemExit(f"--reaudit-only needs a full audit run first ({kept} is missing)")
    for name in _STATE:
        shutil.rmtree(work / name, ignore_errors=True)
        shutil.copytree(kept / name, work / name, symlinks=True)
    return work / "audit.yaml"


def _covered(stages: list[dict]) -> float:
    """Seconds during which at least one stage ran (stages of runs that overlap, such as
    the two-lane runner of earlier versions, would sum to more than the wall clock)."""
    covered, reach = 0.0, float("-inf")
    for s in sorted(stages, key=lambda s: s["start"]):
        if s["end"] > reach:
            covered += s["end"] - max(s["start"], reach)
            reach = s["end"]
    return covered


def _print(m: AuditMeasurement) -> None:
    rows = [
        [s["stage"], s["seconds"], m.tickets / s["seconds"] if s["seconds"] else 0.0, s["peak_mb"]]
        for s in m.stages
    ]
    rows.append(["(runner and Dagster overhead)", m.seconds - _covered(m.stages), "", ""])
    rows.append(["total (wall clock)", m.seconds, m.tickets / m.seconds, m.peak_tree_mb])
    print(f"\n{m.label}: {m.tickets:,} tickets in the store, exit code {m.exit_code}")
    if _covered(m.stages) < sum(s["seconds"] for s in m.stages) - 0.5:
        print("(the quality stages ran in a second lane beside the others: stage times overlap)")
    print(table(["stage", "seconds", "tickets/s", "peak MB (tree PSS)"], rows))
    print(f"largest single process (VmHWM): {m.max_process_mb:,.0f} MB")


def _reaudit(args, work: Path, label: str, code: Path | None) -> AuditMeasurement:
    config = _restore(work)
    new_t, new_m = _increment(args.increment, seed=args.seed + 1000)
    (work / "exports" / "tickets_0002.csv").symlink_to(new_t)
    (work / "exports" / "messages_0002.csv").symlink_to(new_m)
    _settle()
    return _audit(label, config, work, args.memory_cap_mb or None, INCREMENT_SAMPLE_S, code)


def _compare(args) -> int:
    work = RESULTS / f"full_audit_{args.tickets}"
    runs: dict[str, list[AuditMeasurement]] = {"this tree": [], "baseline": []}
    print(
        f"re-audit of {args.tickets:,} + {args.increment:,} tickets, {args.rounds} round(s), "
        f"this tree against {args.against}; load avg {os.getloadavg()[0]:.2f}"
    )
    for i in range(args.rounds):
        order = ["this tree", "baseline"] if i % 2 == 0 else ["baseline", "this tree"]
        for name in order:
            m = _reaudit(args, work, name, args.against if name == "baseline" else None)
            runs[name].append(m)
            print(f"round {i + 1}: {name}: {m.seconds:.1f} s, largest process "
                  f"{m.max_process_mb:,.0f} MB, load avg {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
    for ms in runs.values():
        _print(ms[-1])
    rows = []
    for name, ms in runs.items():
        secs = sorted(m.seconds for m in ms)
        rows.append(
            [name, secs[len(secs) // 2], secs[0], secs[-1], max(m.max_process_mb for m in ms)]
        )
    base = rows[1][1]
    for r in rows:
        r.append(r[1] / base if base else 0.0)
    print()
    print(table(["code", "median s", "min s", "max s", "largest process MB", "x baseline"], rows))
    out = RESULTS / f"full_audit_{args.tickets}_compare.json"
    out.write_text(
        json.dumps({k: [m.__dict__ for m in v] for k, v in runs.items()}, indent=2, default=str)
    )
    print(f"\nresults: {out}")
    return 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench full_audit", description=__doc__)
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--increment", type=int, default=25_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--memory-cap-mb",
        type=float,
        default=12_288,
        help="stop the audit if its processes use more (the machine is shared); 0: no cap",
    )
    ap.add_argument(
        "--reaudit-only",
        action="store_true",
        help="restore the state kept after the last full audit and time only the re-audit",
    )
    ap.add_argument(
        "--against",
        type=Path,
        help="with --reaudit-only: also time the re-audit of the code in this directory",
    )
    ap.add_argument("--rounds", type=int, default=1, help="re-audits of each code (--against)")
    args = ap.parse_args(argv)
    if args.against is not None:
        if not args.reaudit_only:
            raise SystemExit("--against needs --reaudit-only (a kept full audit to start from)")
        return _compare(args)

    hist = cached_history(args.tickets, months=args.months, seed=args.seed)
    work = RESULTS / f"full_audit_{args.tickets}"
    load = os.getloadavg()
    if args.reaudit_only:
        config = _restore(work)
        full = None
    else:
        config = _prepare(hist, work)
        print(f"full audit of {args.tickets:,} tickets; work dir {work}; load avg {load[0]:.2f}")
        full = _audit("full audit", config, work, args.memory_cap_mb or None, FULL_SAMPLE_S)
        _print(full)
        _keep(work)

    new_t, new_m = _increment(args.increment, seed=args.seed + 1000)
    (work / "exports" / "tickets_0002.csv").symlink_to(new_t)
    (work / "exports" / "messages_0002.csv").symlink_to(new_m)
    _settle()
    incremental = _audit(
        f"incremental audit (+{args.increment:,} tickets)",
        config,
        work,
        args.memory_cap_mb or None,
        INCREMENT_SAMPLE_S,
    )
    _print(incremental)

    verdict = [("incremental audit time", incremental.seconds, INCREMENT_GOAL_S)]
    if full is not None:
        verdict[:0] = [
            ("full audit time", full.seconds, FULL_GOAL_S),
            ("full audit peak memory MB", full.peak_tree_mb, FULL_GOAL_MB),
        ]
    print()
    for name, value, goal in verdict:
        print(f"{name}: {value:,.0f} (goal < {goal:,}) {'met' if value < goal else 'MISSED'}")
    result = {
        "tickets": args.tickets,
        "increment": args.increment,
        "load_average_at_start": load,
        "full": full.__dict__ if full else None,
        "incremental": incremental.__dict__,
    }
    suffix = "_reaudit" if args.reaudit_only else ""
    out = RESULTS / f"full_audit_{args.tickets}{suffix}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nresults: {out}")
    return 0
