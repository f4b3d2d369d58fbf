"""readable_json: the same document as json.dumps, long record lists one row per line."""

import json
from datetime import date

from reports.json_text import ROW_LIST_MIN, readable_json


def test_loads_back_to_what_json_dumps_gives():
    rows = [
        {"source": "s", "ticket_id": f"T-{i}", "entity_types": ["EMAIL", "PHONE"], "n": i}
        for i in range(ROW_LIST_MIN * 3)
    ]
    doc = {
        "count": 3,
        "share": 0.25,
        "none": None,
        "empty_list": [],
        "empty_dict": {},
        "when": date(2026, 11, 21),  # not JSON: written with str(), as json.dumps(default=str)
        "by_key": {1: "int key", None: "null key", 2.5: "float key", "é": "unicode"},
        "short": [{"a": [1, 2]}, "x", 2.5],
        "rows": rows,
        "nested": {"rows": rows},
    }
    text = readable_json(doc)
    assert json.loads(text) == json.loads(json.dumps(doc, default=str))


def test_long_record_lists_are_one_row_per_line_and_the_rest_is_indented():
    rows = [{"ticket_id": f"T-{i}", "fields": ["subject"]} for i in range(ROW_LIST_MIN + 1)]
    lines = readable_json({"total": 1, "tickets": rows}).splitlines()
    assert lines[1] == '  "total": 1,'
    row_lines = [line for line in lines if '"ticket_id"' in line]
    assert len(row_lines) == len(rows)
    assert row_lines[0].strip() == '{"ticket_id": "T-0", "fields": ["subject"]},'
    # A short list keeps the indented layout of json.dumps(indent=2).
    assert readable_json({"a": [1, 2]}) == json.dumps({"a": [1, 2]}, indent=2) + "\n"
