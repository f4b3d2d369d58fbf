"""The command line a new user runs: demo end to end, generate, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    workdir = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(workdir)
        mp.delenv("DAGSTER_HOME", raising=False)
        mp.delenv("TICKET_AUDIT_CONFIG", raising=False)
        mp.delenv("TICKET_AUDIT_OUTPUT", raising=False)
        code = main(["demo", "--tickets", "600", "--output", "out"])
    return code, workdir


def test_demo_runs_end_to_end_on_embedded_defaults(demo_run) -> None:
    code, workdir = demo_run
    assert code == 0
    profile = json.loads((workdir / "out" / "profile.json").read_text())
    manifest = json.loads((workdir / ".ticket_audit/demo/data/manifest.json").read_text())
    assert profile["rows_read"] == manifest["tickets_written"] == 600
    assert profile["rows_loaded"] + profile["rows_quarantined"] == 600
    assert (workdir / ".ticket_audit/demo/data/audit.duckdb").exists()
    assert (workdir / ".ticket_audit/dagster").is_dir()  # Dagster's local storage


def test_generate_writes_history_and_config(tmp_path: Path, capsys) -> None:
    assert (
        main(["generate", "--tickets", "50", "--output", str(tmp_path), "--format", "jsonl"]) == 0
    )
    assert (tmp_path / "tickets.jsonl").exists() and (tmp_path / "audit.yaml").exists()
    assert "wrote" in capsys.readouterr().out


def test_missing_input_file_exits_2_naming_it(tmp_path: Path, capsys) -> None:
    config = tmp_path / "audit.yaml"
    config.write_text(
        "audit: {duckdb_path: a.duckdb, output_dir: out}\n"
        "sources:\n- name: desk\n  kind: file\n  path: nowhere.csv\n"
        "  mapping: {fields: {ticket_id: id, created_at: opened}}\n"
    )
    code = main(["run", "--config", str(config)])
    assert code == 2
    err = capsys.readouterr().err
    assert "source 'desk': no file found" in err and "nowhere.csv" in err


def test_the_command_exits_with_mains_code_and_runs_exit_handlers(tmp_path) -> None:
    """`entry` skips the shutdown's collections, not the exit handlers (logging, pools)."""
    import subprocess
    import sys

    script = (
        "import atexit, sys\n"
        "from pipelines.cli import entry\n"
        "atexit.register(lambda: print('exit handlers ran'))\n"
        f"sys.argv = ['ticket-audit', 'run', '--config', {str(tmp_path / 'missing.yaml')!r}]\n"
        "entry()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr  # EXIT_INPUT: the config file does not exist
    assert "missing.yaml" in done.stderr
    assert done.stdout.strip().endswith("exit handlers ran")


def test_generate_names_its_files_and_will_not_overwrite(tmp_path: Path, capsys) -> None:
    out = tmp_path / "hist"
    assert main(["generate", "--tickets", "30", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 6 and f"wrote 6 files to {out}" in printed
    assert all(name in printed for name in written)
    before = (out / "tickets.csv").read_bytes()
    assert main(["generate", "--tickets", "40", "--output", str(out), "--seed", "3"]) == 2
    err = capsys.readouterr().err
    assert "already holds a generated history" in err and "tickets.csv" in err
    assert (out / "tickets.csv").read_bytes() == before
    assert main(["generate", "--tickets", "40", "--output", str(out), "--force"]) == 0
    assert (out / "tickets.csv").read_bytes() != before


def test_version_and_option_help(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("ticket-audit ")
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = capsys.readouterr().out
    assert "size of the generated history (default: 5000)" in " ".join(text.split())
