"""What a load reports: rows read, loaded and quarantined per origin (every loader returns
these; the CLI, the Dagster ingest asset and the profile read them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

Progress = Callable[[str], None]


@dataclass
class OriginReport:
    source: str
    origin: str
    kind: str  # tickets | messages
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    skipped_unchanged: bool = False


@dataclass
class IngestReport:
    origins: list[OriginReport]

    def totals(self, kind: str = "tickets") -> dict[str, int]:
        rs = [o for o in self.origins if o.kind == kind]
        return {
            "rows_read": sum(o.rows_read for o in rs),
            "rows_loaded": sum(o.rows_loaded for o in rs),
            "rows_quarantined": sum(o.rows_quarantined for o in rs),
        }

    def as_dict(self) -> dict:
        return {
            "origins": [asdict(o) for o in self.origins],
            "tickets": self.totals(),
            "messages": self.totals("messages"),
        }
