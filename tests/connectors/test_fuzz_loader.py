"""Property-based tests of the file loader: random exports with random damage (stray quotes,
BOMs, invalid bytes, truncation, numeric and date extremes, huge cells, nested JSON) never
crash the load, keep the accounting exact in physical records, and never put a planted
canary into a log line, an exception, a quarantine reason or an `audit.*` table.

The oracle is differential: the same records written cleanly are loaded too, and the damaged
load must match it record for record except where the damage is.

CI runs a bounded number of examples (profile `ci`); `python -m bench fuzz` runs the same
properties for longer (profile `long`, TICKET_AUDIT_FUZZ_EXAMPLES examples).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from connectors.errors import IngestError
from connectors.ingest import ingest_config
from tests.connectors.helpers import config, query

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("TICKET_AUDIT_FUZZ_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    derandomize=True,  # the same examples on every CI run: no flaky red
    # A failure is reported as found: shrinking one can take minutes of loads.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("TICKET_AUDIT_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
PROFILE = os.environ.get("TICKET_AUDIT_FUZZ_PROFILE", "ci")

CANARY_TEXT = "cnry-q8z3x1@example.org"
CANARY_NUMBER = "73915864201"  # an 11-digit "phone number" in the csat column
CANARIES = (CANARY_TEXT, CANARY_NUMBER)
HEADER = ["id", "opened", "score", "body"]
MAPPING = {
    "fields": {"ticket_id": "id", "created_at": "opened", "csat": "score", "description": "body"}
}

DATES = st.one_of(
    st.sampled_from(
        [
            "2024-01-05 10:00:00",
            "2024-02-29",
            "2023-02-29",
            "9999-12-31 23:59:59",
            "2300-01-01",
            "1600-01-01",
            "0001-01-01",
            "",
            "not a date",
        ]
    ),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
)
NUMBERS = st.one_of(
    st.sampled_from(
        ["", "5", "1e10", "NaN", "inf", "-inf", "2147483648", "-2147483649", "3.5", CANARY_NUMBER]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(repr),
)
# Texts whose first character cannot close a runaway quote into a valid-looking record
# (`"`, `,` or a line break right after an opening quote): with those, a stray quote can turn
# the file into a different valid CSV, which no reader can tell from intent.
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
)
BODIES = st.one_of(
    _TEXT,
    _TEXT.map(lambda t: f"{t} {CANARY_TEXT} {t}"),
    st.sampled_from(['say "hi", then\nleave', "a,b,c", "line\r\nbreak", "x" * 5000]),
).map(lambda t: t if not t or t[0] not in '",\r\n' else "x" + t)


@st.composite
def records(draw, min_size: int = 1) -> list[dict[str, str]]:
    rows = draw(
        st.lists(
            st.fixed_dictionaries({"opened": DATES, "score": NUMBERS, "body": BODIES}),
            min_size=min_size,
            max_size=12,
        )
    )
    return [{"id": f"T{i}", **r} for i, r in enumerate(rows, start=1)]


@dataclass
class Written:
    data: bytes
    starts: list[int]  # byte offset where each record begins
    single_line: list[bool]  # the record takes one physical line


def write_csv(rows: list[dict[str, str]]) -> Written:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    starts, single = [], []
    for r in rows:
        starts.append(len(buf.getvalue().encode()))
        line = io.StringIO(newline="")
        values = [r[h] for h in HEADER]
        # The csv module leaves a bare CR unquoted when lines end in LF; a writer that quotes
        # it is what real exports do (a bare CR outside quotes fails the whole file: see
        # docs/configuration.md).
        quoting = csv.QUOTE_ALL if any("\r" in v for v in values) else csv.QUOTE_MINIMAL
        csv.writer(line, lineterminator="\n", quoting=quoting).writerow(values)
        text = line.getvalue()
        single.append(text.count("\n") == 1 and "\r" not in text)
        buf.write(text)
    return Written(buf.getvalue().encode(), starts, single)


def _load(directory: Path, data: bytes, name: str, caplog) -> tuple[dict | None, str]:
    """(outcome per ticket id, or None when the load stopped with a clear error; text that
    left the restricted zone: progress messages, log records, the error, audit.* tables)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)
    cfg = config(directory, {"name": "desk", "kind": "file", "path": name, "mapping": MAPPING})
    messages: list[str] = []
    caplog.clear()
    try:
        report = ingest_config(cfg, progress=messages.append)
    except IngestError as exc:  # a clear error naming the file is allowed; a crash is not
        assert name in str(exc), str(exc)
        return None, str(exc) + "\n".join(messages) + caplog.text
    totals = report.totals()
    assert totals["rows_read"] == totals["rows_loaded"] + totals["rows_quarantined"]
    loaded = {t: "loaded" for (t,) in query(cfg, "SELECT ticket_id FROM canonical.tickets")}
    reasons = query(cfg, "SELECT row_number, field, reason FROM raw.quarantine")
    leaked = [str(r) for r in query(cfg, "SELECT * FROM audit.load_log")]
    leaked += [reason for _, _, reason in reasons] + messages + [caplog.text]
    return {
        "read": totals["rows_read"],
        "loaded": loaded,
        "quarantined": len(reasons),
        "reasons": reasons,
    }, "\n".join(leaked)


def _no_canary(text: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"canary {canary!r} left the raw zone"


@pytest.fixture
def workdir():
    # One directory per example: hypothesis runs many examples inside one test call.
    def make() -> Path:
        return Path(tempfile.mkdtemp(prefix="ticket-audit-fuzz-"))

    return make


@settings.get_profile(PROFILE)
@given(rows=records(), corruption=st.sampled_from(["none", "bom", "stray_quote", "bad_byte"]))
def test_csv_damage_costs_only_the_damaged_record(rows, corruption, workdir, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    clean = write_csv(rows)
    base = workdir()
    expected, leaked = _load(base / "clean", clean.data, "t.csv", caplog)
    _no_canary(leaked)
    assert expected is not None and expected["read"] == len(rows)  # physical records
    data, damaged = bytearray(clean.data), None
    if corruption == "bom":
        data[:0] = b"\xef\xbb\xbf"
    elif corruption == "stray_quote":
        singles = [i for i, s in enumerate(clean.single_line) if s]
        if singles:
            damaged = singles[len(singles) // 2]
            # An opening quote with no closing one at the start of the record's last field.
            line_end = data.index(b"\n", clean.starts[damaged])
            last_comma = data.rindex(b",", clean.starts[damaged], line_end)
            field = bytes(data[last_comma + 1 : line_end]).replace(b'"', b"")
            data[last_comma + 1 : line_end] = b'"' + field
    elif corruption == "bad_byte":
        damaged = len(rows) // 2
        data[clean.starts[damaged] + 1 : clean.starts[damaged] + 1] = b"\xff"
    got, leaked = _load(base / "damaged", bytes(data), "t.csv", caplog)
    _no_canary(leaked)
    assert got is not None
    assert got["read"] == len(rows)  # every record read, none merged, none invented
    for i, r in enumerate(rows):
        if i == damaged:
            assert r["id"] not in got["loaded"] or corruption == "bad_byte"
        else:
            assert (r["id"] in got["loaded"]) == (r["id"] in expected["loaded"]), r["id"]


@settings.get_profile(PROFILE)
@given(rows=records(), cut=st.floats(min_value=0, max_value=1))
def test_a_truncated_csv_keeps_every_whole_record(rows, cut, workdir, caplog) -> None:
    clean = write_csv(rows)
    base = workdir()
    expected, _ = _load(base / "clean", clean.data, "t.csv", caplog)
    at = int(cut * len(clean.data))
    got, leaked = _load(base / "cut", clean.data[:at], "t.csv", caplog)
    _no_canary(leaked)
    if got is None:  # cut inside the header: a clear error naming the file
        assert at <= clean.starts[0] if rows else True
        return
    started = sum(1 for s in clean.starts if s < at)
    whole = [i for i in range(len(rows)) if i + 1 < len(rows) and clean.starts[i + 1] <= at]
    last_lines = clean.data[clean.starts[started - 1] : at].count(b"\n") + 1 if started else 0
    # The record the cut went through is read (maybe as a broken line plus its other lines).
    assert started <= got["read"] <= started + last_lines
    for i in whole:
        rid = rows[i]["id"]
        assert (rid in got["loaded"]) == (rid in expected["loaded"]), rid


JSON_DAMAGE = st.sampled_from(["none", "truncate_line", "not_object", "nested", "bad_byte", "bom"])


@settings.get_profile(PROFILE)
@given(rows=records(), damage=JSON_DAMAGE, blank_lines=st.integers(0, 2))
def test_jsonl_damage_costs_only_the_damaged_line(
    rows, damage, blank_lines, workdir, caplog
) -> None:
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in rows]
    base = workdir()
    expected, _ = _load(base / "clean", b"\n".join(lines) + b"\n", "t.jsonl", caplog)
    assert expected is not None and expected["read"] == len(rows)
    k = len(rows) // 2
    if damage == "truncate_line":
        lines[k] = lines[k][: len(lines[k]) // 2]
    elif damage == "not_object":
        lines[k] = json.dumps([rows[k]["id"], CANARY_TEXT]).encode()
    elif damage == "nested":
        lines[k] = json.dumps({**rows[k], "body": {"deep": [CANARY_TEXT, {"x": 1}]}}).encode()
    elif damage == "bad_byte":
        lines[k] = lines[k][:1] + b"\xff" + lines[k][1:]
    elif damage == "bom":
        lines[0] = b"\xef\xbb\xbf" + lines[0]
    data = (b"\n" * (blank_lines + 1)).join(lines) + b"\n"
    got, leaked = _load(base / "damaged", data, "t.jsonl", caplog)
    _no_canary(leaked)
    if got is None:  # a clear error naming the file: only when no line is an object any more
        assert len(rows) == 1 and damage in ("truncate_line", "not_object", "bad_byte"), leaked
        return
    assert got["read"] == len(rows)  # one record per non-blank line
    for i, r in enumerate(rows):
        if damage == "none" or (i != k and not (damage == "bom" and i == 0)):
            assert (r["id"] in got["loaded"]) == (r["id"] in expected["loaded"]), r["id"]


def test_canaries_in_damaged_input_stay_out_of_dagster(tmp_path: Path, monkeypatch, caplog) -> None:
    """The loader inside Dagster: a damaged export with canaries in the cells that fail
    (csat beyond 32 bits, the line of an unterminated quote, a date past 2262) and in a good
    row. Nothing the run stores (events, metadata, run database, compute logs) holds one."""
    import dagster as dg

    from pipelines.defs.ingest import ingest
    from pipelines.defs.resources import AuditResource

    monkeypatch.setenv("TICKET_AUDIT_HASH_KEY", "fuzz-test-key")
    caplog.set_level(logging.DEBUG)
    text = (
        "id,opened,score,body\n"
        f"T1,2024-01-05,{CANARY_NUMBER},fine\n"
        f'T2,2024-01-05,3,"{CANARY_TEXT} never closed\n'
        "T3,2024-01-06,4,next ticket\n"
        f"T4,9999-12-31 23:59:59,5,{CANARY_TEXT}\n"
        f"T5,2024-01-07,5,{CANARY_TEXT} in a good row\n"
    )
    (tmp_path / "t.csv").write_text(text)
    cfg_path = tmp_path / "audit.yaml"
    cfg_path.write_text(
        "audit: {duckdb_path: audit.duckdb, output_dir: out}\n"
        "sources:\n- name: desk\n  kind: file\n  path: t.csv\n"
        f"  mapping: {json.dumps(MAPPING)}\n"
    )
    storage = tmp_path / "dagster"
    storage.mkdir()
    with dg.DagsterInstance.local_temp(tempdir=str(storage)) as instance:
        result = dg.materialize(
            [ingest],
            resources={"audit": AuditResource(config_path=str(cfg_path))},
            instance=instance,
        )
        events = [dg.serialize_value(e) for e in instance.all_logs(result.run_id)]
    assert result.success
    cfg = config(tmp_path / "check", {"name": "x", "kind": "file", "path": "x", "mapping": MAPPING})
    cfg.audit.duckdb_path = str(tmp_path / "audit.duckdb")
    assert dict(query(cfg, "SELECT ticket_id, csat FROM canonical.tickets")) == {
        "T3": 4,
        "T5": 5,
    }
    assert query(cfg, "SELECT count(*) FROM raw.quarantine")[0][0] == 3
    stored = "\n".join(events) + caplog.text
    for path in storage.rglob("*"):
        if path.is_file():
            stored += path.read_bytes().decode("utf-8", "replace")
    _no_canary(stored)
