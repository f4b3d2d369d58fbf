"""Configuration errors stop the run and name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from tests.conftest import write_config
from ticket_audit.config import ConfigError, load_config

MINIMAL = {
    "sources": [
        {
            "name": "desk",
            "kind": "file",
            "path": "tickets.csv",
            "mapping": {"fields": {"ticket_id": "id", "created_at": "opened"}},
        }
    ]
}


def test_minimal_config_loads_with_defaults(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path, MINIMAL))
    assert cfg.sources[0].name == "desk"
    assert cfg.duckdb_path == tmp_path / ".ticket_audit" / "audit.duckdb"
    assert cfg.resolve("tickets.csv") == tmp_path / "tickets.csv"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["sources"][0]["mapping"]["fields"].update(colour="x"),
            "sources[0].mapping.fields: unknown canonical field(s) ['colour']",
        ),
        (
            lambda d: d["sources"][0]["mapping"]["fields"].pop("created_at"),
            "sources[0].mapping.fields: missing required field 'created_at'",
        ),
        (lambda d: d["sources"][0].update(kind="ftp"), "sources[0]"),
        (lambda d: d["sources"][0].update(nmae="typo"), "sources[0].file.nmae"),
        (
            lambda d: d.update(sources=[d["sources"][0], d["sources"][0]]),
            "duplicate source name(s) ['desk']",
        ),
        (lambda d: d.update(ingest={"max_text_bytes": -1}), "ingest.max_text_bytes"),
        (
            lambda d: d["sources"][0]["mapping"].update(value_maps={"mood": {}}),
            "value_maps: unknown canonical field(s) ['mood']",
        ),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, mutate, expected: str) -> None:
    import copy

    data = copy.deepcopy(MINIMAL)
    mutate(data)
    path = write_config(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    assert expected.replace(".file", "") in message or expected in message


def test_unset_environment_variable_is_named(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("NO_SUCH_DIR_VAR", raising=False)
    data = {**MINIMAL, "sources": [{**MINIMAL["sources"][0], "path": "${NO_SUCH_DIR_VAR}/t.csv"}]}
    with pytest.raises(ConfigError, match="NO_SUCH_DIR_VAR is not set"):
        load_config(write_config(tmp_path, data))


def test_environment_default_is_used(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SOME_DATA_DIR", raising=False)
    data = {**MINIMAL, "sources": [{**MINIMAL["sources"][0], "path": "${SOME_DATA_DIR:-d}/t.csv"}]}
    assert load_config(write_config(tmp_path, data)).sources[0].path == "d/t.csv"


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_cli_exits_2_on_bad_config(tmp_path: Path, capsys) -> None:
    data = {"sources": [{**MINIMAL["sources"][0], "mapping": {"fields": {"ticket_id": "id"}}}]}
    code = main(["run", "--config", str(write_config(tmp_path, data))])
    assert code == 2
    assert "missing required field 'created_at'" in capsys.readouterr().err
