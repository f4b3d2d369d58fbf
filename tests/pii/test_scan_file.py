"""`ticket-audit scan-pii` and the function behind it; offline analyzer set-up."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

from pipelines.cli import main
from ticket_audit.pii.scan_file import scan_jsonl


def _write(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_scan_jsonl_writes_findings_without_values(tmp_path: Path, pii_config) -> None:
    src = _write(
        tmp_path / "in.jsonl",
        [
            {"id": 1, "text": "Mail me at ann.lee@example.com or call +44 20 7946 0958."},
            {"id": "b", "text": "Nothing personal here."},
            {"id": 3, "text": None},
            "",
            {"id": 4, "text": "Card 4111 1111 1111 1111, support@nimbus-support.example"},
        ],
    )
    out = tmp_path / "sub" / "out.jsonl"
    n = scan_jsonl(src, out, config=pii_config)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert n == len(rows) == 3
    assert {tuple(sorted(r)) for r in rows} == {
        ("end", "entity_type", "id", "recognizer", "score", "start")
    }
    assert [(r["id"], r["entity_type"]) for r in rows] == [
        (1, "EMAIL_ADDRESS"),
        (1, "PHONE_NUMBER"),
        (4, "CREDIT_CARD"),
    ]
    assert rows[0]["start"] == 11 and rows[0]["end"] == 30
    blob = out.read_text()
    assert "ann.lee" not in blob and "4111" not in blob


def test_custom_fields(tmp_path: Path, pii_config) -> None:
    src = _write(tmp_path / "in.jsonl", [{"key": "t-1", "body": "SSN 536-22-8790"}])
    out = tmp_path / "out.jsonl"
    assert scan_jsonl(src, out, text_field="body", id_field="key", config=pii_config) == 1
    assert json.loads(out.read_text())["id"] == "t-1"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "in.jsonl:2: not valid JSON"),
        ('["a list"]', "in.jsonl:2: expected a JSON object"),
        ('{"text": "x"}', "in.jsonl:2: missing id field 'id'"),
        ('{"id": 2}', "in.jsonl:2: missing text field 'text'"),
        ('{"id": 2, "text": 42}', "in.jsonl:2: text field 'text' must be a string"),
    ],
)
def test_malformed_input_names_the_line(
    tmp_path: Path, pii_config, line: str, message: str
) -> None:
    src = _write(tmp_path / "in.jsonl", [{"id": 1, "text": "a@example.com"}, line])
    out = tmp_path / "out.jsonl"
    with pytest.raises(ValueError, match=message):
        scan_jsonl(src, out, config=pii_config)
    assert not out.exists() and not list(tmp_path.glob(".out.jsonl*"))


def test_cli_scan_pii(tmp_path: Path, capsys) -> None:
    src = _write(tmp_path / "in.jsonl", [{"id": 7, "text": "IBAN DE89370400440532013000"}])
    out = tmp_path / "out.jsonl"
    assert main(["scan-pii", "--input", str(src), "--output", str(out)]) == 0
    assert json.loads(out.read_text())["entity_type"] == "IBAN_CODE"
    bad = _write(tmp_path / "bad.jsonl", [{"id": 1, "text": "x"}, "{oops"])
    assert main(["scan-pii", "--input", str(bad), "--output", str(tmp_path / "o2.jsonl")]) == 2
    assert "bad.jsonl:2" in capsys.readouterr().err
    assert (
        main(
            [
                "scan-pii",
                "--input",
                str(tmp_path / "missing.jsonl"),
                "--output",
                str(tmp_path / "o3.jsonl"),
            ]
        )
        == 2
    )


def test_analyzers_build_and_run_offline(monkeypatch, caplog, pii_config) -> None:
    """No socket may be opened: not for the spaCy model, not for tldextract's suffix list."""
    from ticket_audit.pii import analyzer

    def refuse(*_a, **_k):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with caplog.at_level(logging.DEBUG):
        default = analyzer.build_default_analyzer(pii_config.spacy_model)
        ours = analyzer.build_analyzer(pii_config)
        text = "write to ann.lee@example.com"
        assert [
            r.entity_type for r in default.analyze(text, "en") if r.entity_type == "EMAIL_ADDRESS"
        ]
        assert [r.entity_type for r in ours.analyze(text, "en")] == ["EMAIL_ADDRESS"]
    fetches = [
        r for r in caplog.records if "tldextract" in r.name or "suffix" in r.getMessage().lower()
    ]
    assert not fetches, [r.getMessage() for r in fetches]


def test_missing_model_is_a_config_error(pii_config) -> None:
    from ticket_audit.config import ConfigError
    from ticket_audit.pii import analyzer

    with pytest.raises(ConfigError, match="not installed and will not be downloaded"):
        analyzer.load_spacy("xx_no_such_model_pkg")


def test_capabilities_name_what_cannot_be_detected(pii_config) -> None:
    from ticket_audit.pii.analyzer import model_capabilities

    caps = model_capabilities(pii_config)
    can = {c["entity_type"] for c in caps["detectable"]}
    cannot = {c["entity_type"]: c["reason"] for c in caps["not_detectable"]}
    assert {"PERSON", "EMAIL_ADDRESS", "CREDIT_CARD"} <= can
    assert cannot == {"ORDER_NUMBER": "no patterns configured"}
    assert "PERSON" in caps["ner_labels"]
    no_person = model_capabilities(pii_config.model_copy(update={"entities": ["EMAIL_ADDRESS"]}))
    assert {c["entity_type"] for c in no_person["detectable"]} == {"EMAIL_ADDRESS"}
