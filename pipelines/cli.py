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
import traceback
import warnings
from pathlib import Path
from typing import NoReturn

from ticket_audit.config import ConfigError

EXIT_OK, EXIT_GATE, EXIT_INPUT, EXIT_FAILED = 0, 1, 2, 3
VERDICT_ORDER = ["ready", "ready_with_conditions", "not_ready"]
DEMO_DATA = Path(".ticket_audit/demo/data")
DEMO_KEY_HELP = (
    "use the public demo key for pseudonyms and keyed hashes when the key variable is not set "
    "(sample data only: anyone can reverse them)"
)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {number}")
    return number


def _parser() -> argparse.ArgumentParser:
    # -v is accepted before and after the command; SUPPRESS keeps a subcommand's default
    # from overwriting a -v given before it.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show Dagster's own log lines and the traceback of an error",
    )
    p = argparse.ArgumentParser(
        prog="ticket-audit", description=__doc__.splitlines()[0], parents=[verbose]
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    # Every subcommand's --help shows each option's default.
    helpful = {"parents": [verbose], "formatter_class": argparse.ArgumentDefaultsHelpFormatter}
    for add_command in (
        _demo_command,
        _check_command,
        _run_command,
        _generate_command,
        _scan_pii_command,
    ):
        add_command(sub, helpful)
    return p


def _fail_on(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--fail-on",
        choices=VERDICT_ORDER[1:],
        default=None,
        help="exit 1 when the verdict is this or worse",
    )


def _demo_command(sub, helpful: dict) -> None:
    demo = sub.add_parser(
        "demo", **helpful, help="generate a sample history and audit it end to end"
    )
    demo.add_argument(
        "--tickets", type=_positive, default=5000, help="size of the generated history"
    )
    demo.add_argument(
        "--output", type=Path, default=Path("out/demo"), help="directory for the reports"
    )
    demo.add_argument("--seed", type=int, default=7, help="seed of the generated history")
    _fail_on(demo)


def _check_command(sub, helpful: dict) -> None:
    check = sub.add_parser(
        "check",
        **helpful,
        help="validate a configuration and read each source's header and first rows",
    )
    check.add_argument("--config", type=Path, required=True, help="the audit configuration (YAML)")
    check.add_argument("--demo-key", action="store_true", help=DEMO_KEY_HELP)


def _run_command(sub, helpful: dict) -> None:
    run = sub.add_parser("run", **helpful, help="audit the sources of a configuration file")
    run.add_argument("--config", type=Path, required=True, help="the audit configuration (YAML)")
    run.add_argument(
        "--output",
        type=Path,
        default=None,
        help="directory for the reports (default: the configuration's audit.output_dir)",
    )
    _fail_on(run)
    run.add_argument("--demo-key", action="store_true", help=DEMO_KEY_HELP)


def _generate_command(sub, helpful: dict) -> None:
    gen = sub.add_parser("generate", **helpful, help="write a sample history with planted defects")
    gen.add_argument("--tickets", type=_positive, default=5000, help="number of tickets")
    gen.add_argument(
        "--output", type=Path, required=True, help="directory to write (must hold no history)"
    )
    gen.add_argument("--seed", type=int, default=7, help="random seed (same seed, same history)")
    gen.add_argument("--months", type=_positive, default=12, help="months the history spans")
    gen.add_argument(
        "--format", choices=["csv", "jsonl", "parquet"], default="csv", help="tickets file format"
    )
    gen.add_argument(
        "--force", action="store_true", help="overwrite the files of an earlier history there"
    )


def _scan_pii_command(sub, helpful: dict) -> None:
    scan = sub.add_parser(
        "scan-pii", **helpful, help="PII findings for the texts of a JSON Lines file"
    )
    scan.add_argument("--input", type=Path, required=True, help="JSON Lines file of texts")
    scan.add_argument(
        "--output", type=Path, required=True, help="JSON Lines file of findings (no values)"
    )
    scan.add_argument("--text-field", default="text", help="field holding the text")
    scan.add_argument("--id-field", default="id", help="field holding the text's id")
    scan.add_argument(
        "--config",
        type=Path,
        default=None,
        help="audit config whose `pii` section to use (defaults otherwise)",
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ticket-audit")
    except PackageNotFoundError:  # a source tree without an installed package
        return "unknown"


def _generated_files(directory: Path) -> list[Path]:
    """Files `generate` writes (any format), to refuse overwriting a history."""
    names = ["audit.yaml", "manifest.json", "truth.csv", "pii_truth.jsonl"]
    names += [
        f"{kind}.{ext}" for kind in ("tickets", "messages") for ext in ("csv", "jsonl", "parquet")
    ]
    return [directory / n for n in names]


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


def _problem_lines(exc: ConfigError) -> list[str]:
    """One line per problem: a validation error lists its keys under a heading line."""
    head, *rest = str(exc).splitlines()
    if not rest:
        return [head]
    origin = head.removesuffix(": invalid configuration")
    return [f"{origin}: {line.strip()}" for line in rest if line.strip()]


def _use_key(cfg, demo_key: bool) -> list[str]:
    """The hash key must come from the environment unless the user opted into the demo key."""
    from ticket_audit.secrets import DEMO_KEY

    env = cfg.audit.hash_key_env
    if os.environ.get(env):
        return []
    if demo_key:
        # The environment carries it to every process of the audit (Dagster steps).
        os.environ[env] = DEMO_KEY
        print(
            f"ticket-audit: --demo-key: {env} is not set; using the public demo key "
            "(pseudonyms and hashes are reversible: sample data only)",
            file=sys.stderr,
        )
        return []
    return [
        f"environment variable {env} is not set: a real audit needs a secret key for "
        f"pseudonyms and keyed hashes (export {env}=<secret>); --demo-key uses the public "
        "demo key, for sample data only"
    ]


def _check(config: Path, demo_key: bool) -> int:
    """Configuration and sources before any Dagster run; one line per problem on stderr."""
    from connectors.preflight import check_sources
    from ticket_audit.config import load_config

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        for line in _problem_lines(exc):
            print(f"ticket-audit: {line}", file=sys.stderr)
        return EXIT_INPUT
    problems = _use_key(cfg, demo_key) + check_sources(cfg)
    for line in problems:
        print(f"ticket-audit: {config}: {line}", file=sys.stderr)
    return EXIT_INPUT if problems else EXIT_OK


def _audit(config: Path, output: Path | None, verbose: bool, fail_on: str | None) -> int:
    from pipelines.runner import AuditFailed, run_audit

    try:
        run = run_audit(config, output, verbose=verbose)
    except AuditFailed as exc:
        print(f"ticket-audit: {exc}", file=sys.stderr)
        return EXIT_INPUT if exc.input_error else EXIT_FAILED
    # The progress bar counts stages; raw_tickets and canonical_tickets are one stage.
    print(
        f"audit complete: {len(run.assets)} assets materialized in "
        f"{len(run.stage_seconds)} stages; output in {run.output_dir}"
    )
    for name in (
        "scorecard.html",
        "pii_exposure.html",
        "profile.html",
        "worklist.csv",
        "data_docs/index.html",
    ):
        if (run.output_dir / name).exists():
            print(f"  {run.output_dir / name}")
    return _verdict_exit(run.output_dir, fail_on)


def _dispatch(args: argparse.Namespace) -> int:
    environ = dict(os.environ)
    try:
        return _command(args)
    finally:  # --demo-key sets the key for this command only (main may be called in-process)
        os.environ.clear()
        os.environ.update(environ)


def _command(args: argparse.Namespace) -> int:
    if args.command == "demo":
        config = _demo_history(args.tickets, args.seed)
        code = _check(config, demo_key=True)
        return code or _audit(config, args.output, args.verbose, args.fail_on)
    if args.command == "check":
        code = _check(args.config, args.demo_key)
        if code == EXIT_OK:
            print(f"{args.config}: configuration and sources look loadable")
        return code
    if args.command == "run":
        code = _check(args.config, args.demo_key)
        return code or _audit(args.config, args.output, args.verbose, args.fail_on)
    if args.command == "generate":
        existing = sorted(p.name for p in _generated_files(args.output) if p.exists())
        if existing and not args.force:
            print(
                f"ticket-audit: {args.output} already holds a generated history "
                f"({', '.join(existing)}); choose another --output or pass --force",
                file=sys.stderr,
            )
            return EXIT_INPUT
        h = _generate(args.tickets, args.output, args.seed, args.months, args.format)
        files = [h.tickets_path, h.messages_path, h.config_path, h.manifest_path]
        files += [h.truth_path, h.pii_truth_path]
        print(f"wrote {len([f for f in files if f])} files to {h.directory}:")
        for f in files:
            if f:
                print(f"  {f}")
        return EXIT_OK
    if args.command == "scan-pii":
        from pipelines.scan_pii import scan_pii_command

        return scan_pii_command(args)
    return EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.verbose = getattr(args, "verbose", False)
    if not args.verbose:  # Dagster's notes on its preview APIs are not the user's concern
        warnings.filterwarnings("ignore", message=r".*is currently in preview")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return _dispatch(args)
    except ConfigError as exc:
        for line in _problem_lines(exc):
            print(f"ticket-audit: {line}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return EXIT_INPUT
    except Exception as exc:  # a defect of ours: one line, the traceback with -v
        if args.verbose:
            traceback.print_exc()
        first = (str(exc).splitlines() or [""])[0]
        print(
            f"ticket-audit: the audit failed: {type(exc).__name__}: {first}"
            + ("" if args.verbose else " (run with -v for the traceback)"),
            file=sys.stderr,
        )
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
