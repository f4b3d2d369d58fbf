"""pii_exposure.json (orjson): the same document json.dumps(default=str) gives, indented."""

import json
from datetime import date, datetime

from reports.pii_exposure import exposure_json


def test_loads_back_to_what_json_dumps_gives():
    rows = [
        {"source": "s", "ticket_id": f"T-{i}", "entity_types": ["EMAIL", "PHONE"], "n": i}
        for i in range(150)
    ]
    doc = {
        "count": 3,
        "share": 0.25,
        "none": None,
        "empty_list": [],
        "empty_dict": {},
        "when": date(2026, 11, 21),  # not JSON: written with str(), as json.dumps(default=str)
        "at": datetime(2026, 11, 21, 9, 30),
        "by_key": {1: "int key", None: "null key", 2.5: "float key", "é": "unicode"},
        "short": [{"a": [1, 2]}, "x", 2.5],
        "rows": rows,
        "nested": {"rows": rows},
    }
    text = exposure_json(doc).decode()
    assert json.loads(text) == json.loads(json.dumps(doc, default=str))
    assert text.endswith("}\n")
    # Indented for people: a short list reads as json.dumps(indent=2) writes it.
    assert exposure_json({"a": [1, 2]}).decode() == json.dumps({"a": [1, 2]}, indent=2) + "\n"
