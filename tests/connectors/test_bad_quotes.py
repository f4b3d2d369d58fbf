"""A description missing its closing quote: only that record is quarantined; the lines after it
become records of their own, wherever in the file it is, whatever follows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.ingest import ingest_config
from tests.connectors.helpers import balanced, config, query

SOURCE = {
    "name": "desk",
    "kind": "file",
    "path": "t.csv",
    "mapping": {"fields": {"ticket_id": "id", "created_at": "opened", "description": "body"}},
}


def _write(tmp_path: Path, n: int, broken: set[int], quoted: bool) -> None:
    lines = ["id,opened,body"]
    for i in range(1, n + 1):
        if i in broken:
            body = f'"desc {i} has no closing quote'
        else:
            body = f'"desc {i}"' if quoted else f"desc {i}"
        lines.append(f"T{i},2024-01-05,{body}")
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("quoted", [True, False], ids=["quoted", "unquoted"])
@pytest.mark.parametrize(
    "broken",
    [{5}, {1}, {2999}, {3000}, {10, 11, 1500}],
    ids=["early", "first", "near-end", "last", "several"],
)
def test_an_unterminated_quote_quarantines_its_line_only(
    tmp_path: Path, quoted: bool, broken: set[int]
) -> None:
    n = 3000
    _write(tmp_path, n, broken, quoted)
    cfg = config(tmp_path, SOURCE)
    report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals() == {
        "rows_read": n,
        "rows_loaded": n - len(broken),
        "rows_quarantined": len(broken),
    }
    assert balanced(cfg)
    loaded = {r[0] for r in query(cfg, "SELECT ticket_id FROM canonical.tickets")}
    assert loaded == {f"T{i}" for i in range(1, n + 1) if i not in broken}
    quarantined = query(cfg, "SELECT row_number, reason, record FROM raw.quarantine ORDER BY 1")
    # File line = ticket number + 1 (the header is line 1); the record is that line alone.
    assert [r[0] for r in quarantined] == sorted(i + 1 for i in broken)
    for (line, reason, record), i in zip(quarantined, sorted(broken), strict=True):
        assert reason.startswith(f"line {line}: malformed CSV (unterminated quote)")
        assert record == f'T{i},2024-01-05,"desc {i} has no closing quote'
    descriptions = dict(query(cfg, "SELECT ticket_id, description FROM canonical.tickets"))
    assert all(d == f"desc {t[1:]}" for t, d in descriptions.items())  # nothing merged


def test_a_real_multi_line_description_stays_one_record(tmp_path: Path) -> None:
    text = (
        'id,opened,body\nT1,2024-01-05,"line one\nline two, with ""quotes""\n"\nT2,2024-01-06,x\n'
    )
    (tmp_path / "t.csv").write_text(text)
    cfg = config(tmp_path, SOURCE)
    report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals() == {"rows_read": 2, "rows_loaded": 2, "rows_quarantined": 0}
    (body,) = query(cfg, "SELECT description FROM canonical.tickets WHERE ticket_id = 'T1'")[0]
    assert body == 'line one\nline two, with "quotes"\n'
