"""JSON that people can read and that writes fast at a million tickets.

`json.dumps(..., indent=2)` runs the pure-Python encoder (the C one only does compact
output): for the exposure report's 100k+ ticket rows that was most of the report's write
time. Here the structure is indented as usual, while each row of a long list of records is
one compact line, written by the C encoder.
"""

from __future__ import annotations

import json
from typing import Any

# Lists longer than this are written one element per line.
ROW_LIST_MIN = 50
_INDENT = "  "
_COMPACT = json.JSONEncoder(default=str).encode


def readable_json(obj: Any) -> str:
    """`obj` as JSON text that loads back to what `json.dumps(obj, default=str)` gives."""
    return _dump(obj, 0) + "\n"


def _key(key: Any) -> str:
    if isinstance(key, str):
        return json.dumps(key)
    # Non-string keys become strings the way json.dumps makes them (1 -> "1", None -> "null").
    return json.dumps({key: 0})[1:-4]


def _dump(obj: Any, level: int) -> str:
    inner = _INDENT * (level + 1)
    close = _INDENT * level
    if isinstance(obj, dict) and obj:
        items = [f"{inner}{_key(k)}: {_dump(v, level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + close + "}"
    if isinstance(obj, list | tuple) and obj:
        if len(obj) > ROW_LIST_MIN:
            rows = [inner + _COMPACT(v) for v in obj]
        else:
            rows = [inner + _dump(v, level + 1) for v in obj]
        return "[\n" + ",\n".join(rows) + "\n" + close + "]"
    return _COMPACT(obj)
