"""`ticket-audit scan-pii`: findings for the texts of a JSON Lines file.

One output line per finding: {"id", "entity_type", "start", "end", "score", "recognizer"};
never the value. The output file appears whole or not at all (temporary file, renamed), so a
malformed line 90,000 leaves no half-written result behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ticket_audit.config.pii import PiiSection
from ticket_audit.pii.runtime import get_scanner

CHUNK = 5_000


def _records(path: Path, text_field: str, id_field: str) -> Iterator[tuple[object, str | None]]:
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise ValueError(
                    f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}"
                )
            if id_field not in obj:
                raise ValueError(f"{path}:{lineno}: missing id field {id_field!r}")
            if text_field not in obj:
                raise ValueError(f"{path}:{lineno}: missing text field {text_field!r}")
            text = obj[text_field]
            if text is not None and not isinstance(text, str):
                raise ValueError(
                    f"{path}:{lineno}: text field {text_field!r} must be a string or null, "
                    f"got {type(text).__name__}"
                )
            ident = obj[id_field]
            if isinstance(ident, (dict, list)):
                raise ValueError(f"{path}:{lineno}: id field {id_field!r} must be a scalar")
            yield ident, text


def scan_jsonl(
    input_path: str | Path,
    output_path: str | Path,
    *,
    text_field: str = "text",
    id_field: str = "id",
    config: PiiSection | None = None,
) -> int:
    """Scan every record's text; returns the number of findings written."""
    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        raise ValueError(f"{input_path}: input file not found")
    scanner = get_scanner(config or PiiSection())
    output_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{output_path.name}.", suffix=".tmp", dir=output_path.parent
    )
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            batch: list[tuple[object, str | None]] = []

            def flush() -> int:
                written = 0
                results = scanner.scan([t for _, t in batch])
                for (ident, _), findings in zip(batch, results, strict=True):
                    for f in findings:
                        out.write(
                            json.dumps(
                                {
                                    "id": ident,
                                    "entity_type": f.entity_type,
                                    "start": f.start,
                                    "end": f.end,
                                    "score": round(f.score, 4),
                                    "recognizer": f.recognizer,
                                }
                            )
                            + "\n"
                        )
                        written += 1
                batch.clear()
                return written

            for record in _records(input_path, text_field, id_field):
                batch.append(record)
                if len(batch) >= CHUNK:
                    count += flush()
            count += flush()
        os.replace(tmp, output_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
