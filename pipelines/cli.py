"""`ticket-audit`: run an audit, the demo, or parts of it from the command line.

Exit codes: 0 success; 1 the audit ran and the verdict fails `--fail-on`; 2 bad configuration
or input (the message names the file, field or row); 3 the audit itself failed.
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

from ticket_audit.config import ConfigError

EXIT_OK, EXIT_GATE, EXIT_INPUT, EXIT_FAILED = 0, 1, 2, 3
VERDICT_ORDER = ["ready", "ready_with_conditions", "not_ready"]
DEMO_DATA = Path(".ticket_audit/demo/data")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ticket-audit", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="show Dagster's own log lines")
    sub = p.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate a sample history and audit it end to end")
    demo.add_argument("--tickets", type=int, default=5000)
    demo.add_argument("--output", type=Path, default=Path("out/demo"))
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--fail-on", choices=VERDICT_ORDER[1:], default=None)

    run = sub.add_parser("run", help="audit the sources of a configuration file")
    run.add_argument("--config", type=Path, required=True)
    run.add_argument("--output", type=Path, default=None)
    run.add_argument(
        "--fail-on",
        choices=VERDICT_ORDER[1:],
        default=None,
        help="exit 1 when the verdict is this or worse",
    )

    gen = sub.add_parser("generate", help="write a sample history with planted defects")
    gen.add_argument("--tickets", type=int, default=5000)
    gen.add_argument("--output", type=Path, required=True)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--months", type=int, default=12)
    gen.add_argument("--format", choices=["csv", "jsonl", "parquet"], default="csv")

    scan = sub.add_parser("scan-pii", help="PII findings for the texts of a JSON Lines file")
    scan.add_argument("--input", type=Path, required=True)
    scan.add_argument("--output", type=Path, required=True)
    scan.add_argument("--text-field", default="text")
    scan.add_argument("--id-field", default="id")
    scan.add_argument(
        "--config",
        type=Path,
        default=None,
        help="audit config whose `pii` section to use (defaults otherwise)",
    )
    return p


def _generate(tickets: int, output: Path, seed: int, months: int = 12, fmt: str = "csv"):
    from ticket_audit.generator import GeneratorSpec, generate_history

    spec = GeneratorSpec(tickets=tickets, seed=seed, months=months, format=fmt)
    return generate_history(spec, output)


def _demo_history(tickets: int, seed: int) -> Path:
    """Reuse the generated demo data when it was made with the same size and seed."""
    manifest = DEMO_DATA / "manifest.json"
    if manifest.exists():
        spec = json.loads(manifest.read_text())["spec"]
        if spec["tickets"] == tickets and spec["seed"] == seed:
            return DEMO_DATA / "audit.yaml"
    from ticket_audit.ownership.sample import use_sample_owners

    print(f"generating a sample history of {tickets:,} tickets in {DEMO_DATA}/")
    config = _generate(tickets, DEMO_DATA, seed).config_path
    use_sample_owners(config)
    return config


def _verdict_exit(output: Path, fail_on: str | None) -> int:
    scorecard = output / "scorecard.json"
    if not scorecard.exists():
        return EXIT_OK
    readiness = json.loads(scorecard.read_text()).get("readiness", {})
    verdict = readiness.get("verdict")
    if verdict:
        print(f"verdict: {verdict} (score {readiness.get('score')})")
    print(f"report:  {(output / 'scorecard.html').resolve()}")
    if (
        fail_on
        and verdict in VERDICT_ORDER
        and (VERDICT_ORDER.index(verdict) >= VERDICT_ORDER.index(fail_on))
    ):
        return EXIT_GATE
    return EXIT_OK


def _audit(config: Path, output: Path | None, verbose: bool, fail_on: str | None) -> int:
    from pipelines.runner import AuditFailed, run_audit

    try:
        run = run_audit(config, output, verbose=verbose)
    except AuditFailed as exc:
        print(f"ticket-audit: {exc}", file=sys.stderr)
        return EXIT_INPUT if exc.input_error else EXIT_FAILED
    print(f"audit complete: {len(run.assets)} assets materialized; output in {run.output_dir}")
    for name in ("profile.md", "scorecard.html", "pii_exposure.html"):
        if (run.output_dir / name).exists():
            print(f"  {run.output_dir / name}")
    return _verdict_exit(run.output_dir, fail_on)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "demo":
            config = _demo_history(args.tickets, args.seed)
            return _audit(config, args.output, args.verbose, args.fail_on)
        if args.command == "run":
            return _audit(args.config, args.output, args.verbose, args.fail_on)
        if args.command == "generate":
            h = _generate(args.tickets, args.output, args.seed, args.months, args.format)
            print(f"wrote {h.tickets_path}, {h.manifest_path} and {h.config_path}")
            return EXIT_OK
        if args.command == "scan-pii":
            from pipelines.scan_pii import scan_pii_command

            return scan_pii_command(args)
    except ConfigError as exc:
        print(f"ticket-audit: {exc}", file=sys.stderr)
        return EXIT_INPUT
    return EXIT_FAILED


def entry() -> NoReturn:
    """The `ticket-audit` command: `main`, then end the process without tearing it down."""
    code = main()
    # Every store is closed and every file written by now. The interpreter's teardown would
    # walk and free all the audit loaded (libraries, models, definitions), a second or more,
    # before the system frees it all anyway; exit handlers (logging, worker pools) still run.
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
