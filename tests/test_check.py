"""`ticket-audit check` and what `run` checks before Dagster starts: one line per problem,
exit 2 for every configuration or input error, tracebacks only with -v, and no real audit
with the public demo key unless asked for."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from pipelines import cli
from pipelines.cli import main

HEADER = ["id", "opened", "body"]
KEY = "TICKET_AUDIT_HASH_KEY"


def _config(tmp_path: Path, rows: list[list[str]] | None, **audit) -> Path:
    if rows is not None:
        with (tmp_path / "t.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(HEADER)
            w.writerows(rows)
    data = {
        "audit": {"duckdb_path": "a.duckdb", "output_dir": "out", **audit},
        "sources": [
            {
                "name": "desk",
                "kind": "file",
                "path": "t.csv",
                "mapping": {
                    "fields": {"ticket_id": "id", "created_at": "opened", "description": "body"}
                },
            }
        ],
    }
    path = tmp_path / "audit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _problems(capsys) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if not line.startswith("ticket-audit: --demo-key")]


GOOD = [["T1", "2024-01-05", "hello"], ["T2", "2024-01-06", "again"]]


def test_check_passes_a_good_config(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv(KEY, "a-secret")
    assert main(["check", "--config", str(_config(tmp_path, GOOD))]) == 0
    assert "look loadable" in capsys.readouterr().out
    assert not (tmp_path / "a.duckdb").exists()  # a check writes nothing


def test_an_impossible_date_in_the_config_is_exit_2_naming_the_key(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv(KEY, "a-secret")
    config = _config(tmp_path, GOOD)
    config.write_text(config.read_text().replace("output_dir: out", "partitions_start: 2020-13-01"))
    for command in ("check", "run"):
        assert main([command, "--config", str(config)]) == 2
        (line,) = _problems(capsys)
        assert line.startswith(f"ticket-audit: {config}: audit.partitions_start: ")


def test_a_negative_ticket_count_is_a_usage_error(tmp_path: Path, capsys) -> None:
    for args in (["generate", "--tickets", "-5"], ["demo", "--tickets", "0"]):
        with pytest.raises(SystemExit) as exit_:
            main([*args, "--output", str(tmp_path)])
        assert exit_.value.code == 2
        assert "must be a positive whole number" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_run_refuses_without_the_hash_key_naming_the_variable(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.delenv(KEY, raising=False)
    config = _config(tmp_path, GOOD)
    assert main(["run", "--config", str(config)]) == 2
    (line,) = _problems(capsys)
    assert f"environment variable {KEY} is not set" in line and "--demo-key" in line
    assert not (tmp_path / "a.duckdb").exists() and not (tmp_path / "out").exists()
    # --demo-key is the explicit opt-in; it lasts for the command only.
    assert main(["check", "--config", str(config), "--demo-key"]) == 0
    assert "public demo key" in capsys.readouterr().err
    assert KEY not in __import__("os").environ


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], "the file holds a header but no data rows; nothing to audit"),
        (
            [["T1", "31/31/2024", "x"], ["T2", "", "y"]],
            "none of its rows maps onto a ticket (most often 'created_at: ",
        ),
    ],
)
def test_header_only_and_all_bad_files_are_exit_2_naming_the_file(
    tmp_path: Path, capsys, monkeypatch, rows, expected
) -> None:
    monkeypatch.delenv(KEY, raising=False)
    config = _config(tmp_path, rows)
    assert main(["run", "--demo-key", "--config", str(config)]) == 2
    (line,) = _problems(capsys)
    assert f"source 'desk', file {tmp_path / 't.csv'}: {expected}" in line
    assert "31/31" not in line  # the reason names the field, not the value


def test_missing_column_and_missing_file_are_one_line_each(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv(KEY, "a-secret")
    config = _config(tmp_path, GOOD)
    config.write_text(config.read_text().replace("body", "text"))
    assert main(["check", "--config", str(config)]) == 2
    (line,) = _problems(capsys)
    assert "mapped column(s) ['text'] not in the file" in line
    (tmp_path / "t.csv").unlink()
    assert main(["check", "--config", str(config)]) == 2
    (line,) = _problems(capsys)
    assert "source 'desk': no file found at" in line


def test_tracebacks_only_with_v_before_or_after_the_command(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    def broken(_args):
        raise RuntimeError("something of ours broke")

    monkeypatch.setattr(cli, "_command", broken)
    config = str(_config(tmp_path, GOOD))
    assert main(["check", "--config", config]) == 3
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "ticket-audit: the audit failed: RuntimeError: something of ours broke "
        "(run with -v for the traceback)"
    ]
    for argv in (["-v", "check", "--config", config], ["check", "--config", config, "-v"]):
        assert main(argv) == 3
        assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_an_empty_history_stops_the_dagster_run_as_an_input_error(
    tmp_path: Path, monkeypatch, capfd
) -> None:
    """What `check` cannot see (a file emptied after it, a Dagster-launched run): the load
    itself stops with the file named, before a later stage meets an empty history."""
    from pipelines.runner import AuditFailed, run_audit

    monkeypatch.setenv(KEY, "a-secret")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path, [])
    with pytest.raises(AuditFailed) as failed:
        run_audit(config, tmp_path / "out", show_progress=False)
    assert failed.value.input_error
    assert (
        f"no ticket loaded, nothing to audit: source 'desk', {tmp_path / 't.csv'}: "
        "a header but no data rows" in str(failed.value)
    )
    # Without -v, Dagster's own record of the failed step (a traceback) is not printed: the
    # command line prints the one line above.
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "STEP_FAILURE" not in out + err
