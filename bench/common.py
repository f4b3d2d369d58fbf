"""Shared benchmark helpers: isolated measurement, cached histories, tables."""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def _peak_rss_mb() -> float:
    """This process's own peak RSS. Not getrusage's ru_maxrss: Linux carries that across
    exec, so a spawned child would report its parent's peak if the parent's was higher."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(conn, fn, args, kwargs) -> None:
    start = time.perf_counter()
    try:
        value = fn(*args, **kwargs)
        error = None
    except BaseException as exc:  # reported to the parent, which re-raises
        value, error = None, f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    peak_mb = _peak_rss_mb()
    conn.send((value, seconds, peak_mb, error))
    conn.close()


def isolated(fn: Callable[..., Any], *args, **kwargs) -> tuple[Any, float, float]:
    """Run `fn` in a fresh child; return (result, seconds, peak RSS in MB of that child).

    A fresh process per measurement keeps one contender's memory out of the other's peak.
    Spawned, not forked: a fork after polars or DuckDB ran threads in the parent can hang.
    """
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, kwargs))
    proc.start()
    child.close()
    value, seconds, peak_mb, error = parent.recv()
    proc.join()
    if error:
        raise RuntimeError(f"benchmark step failed: {error}")
    return value, seconds, peak_mb


def cached_history(
    tickets: int,
    *,
    months: int = 12,
    seed: int = 7,
    messages: bool = True,
    fmt: str = "csv",
    rates: dict[str, float] | None = None,
):
    """A generated history under bench/results/, made once per parameter set."""
    from ticket_audit.generator import GeneratorSpec, generate_history
    from ticket_audit.generator.writer import GeneratedHistory

    tag = f"hist_{tickets}_{months}m_s{seed}_{'msg' if messages else 'nomsg'}_{fmt}"
    directory = RESULTS / tag
    spec_kwargs: dict[str, Any] = dict(
        tickets=tickets, months=months, seed=seed, messages=messages, format=fmt
    )
    if rates is not None:
        spec_kwargs["rates"] = rates
    if (directory / "manifest.json").exists():
        ext = fmt
        return GeneratedHistory(
            directory,
            directory / "audit.yaml",
            directory / "manifest.json",
            directory / f"tickets.{ext}",
            directory / f"messages.{ext}" if messages else None,
            directory / "truth.csv",
            directory / "pii_truth.jsonl",
        )
    print(f"generating {tickets:,} tickets into {directory} (cached for later runs)...", flush=True)
    return generate_history(GeneratorSpec(**spec_kwargs), directory)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    cells = [[fmt(v) for v in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    return "\n".join([line, sep, *body])
