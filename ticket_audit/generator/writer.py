"""Writes a generated history: ticket and message exports, ground truth, manifest, config."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
import yaml

from ticket_audit.generator import vocabulary as vocab
from ticket_audit.generator.history import TS_FORMAT, HistoryBuilder, Ticket
from ticket_audit.generator.plant import Planter
from ticket_audit.generator.spec import DEFECTS, GeneratorSpec


@dataclass(frozen=True)
class GeneratedHistory:
    directory: Path
    config_path: Path
    manifest_path: Path
    tickets_path: Path
    messages_path: Path | None
    truth_path: Path
    pii_truth_path: Path

    def manifest(self) -> dict:
        return json.loads(self.manifest_path.read_text())

    def truth(self) -> pl.DataFrame:
        return pl.read_csv(self.truth_path, schema_overrides={"ticket_id": pl.Utf8})


def _fmt(ts, fmt: str = TS_FORMAT) -> str | None:
    return ts.strftime(fmt) if ts is not None else None


def build(spec: GeneratorSpec) -> tuple[list[Ticket], HistoryBuilder]:
    builder = HistoryBuilder(spec)
    planter = Planter(spec, builder)
    n_copies = planter.count("exact_duplicate") + planter.count("near_duplicate_conflict")
    base = [builder.base_ticket(i) for i in range(spec.tickets - n_copies)]
    tickets = base + planter.copies(base)
    planter.plant_fields(tickets)
    greet = planter.plant_pii()
    planter.finish_messages(tickets, greet)
    order = sorted(tickets, key=lambda t: (t.created_at, t.index))
    for seq, t in enumerate(order, start=1):
        t.ticket_id = f"NB-{seq:07d}"
    by_index = {t.index: t for t in tickets}
    for t in tickets:
        if t.duplicate_of:
            t.duplicate_of = by_index[int(t.duplicate_of[1:])].ticket_id
    return order, builder


def _label_conflicts(tickets: list[Ticket]) -> set[str]:
    groups: dict[str, list[Ticket]] = defaultdict(list)
    for t in tickets:
        groups[t.duplicate_of or t.ticket_id].append(t)
    conflicted: set[str] = set()
    for members in groups.values():
        labels = {m.category for m in members if m.category}
        if len(members) > 1 and len(labels) > 1:
            conflicted.update(m.ticket_id for m in members)
    return conflicted


def _ticket_rows(tickets: list[Ticket]) -> dict[str, list]:
    cols: dict[str, list] = defaultdict(list)
    for t in tickets:
        cols["ticket_id"].append(t.ticket_id)
        cols["created_at"].append(t.created_at_text or _fmt(t.created_at, t.ts_format))
        cols["updated_at"].append(_fmt(t.updated_at, t.ts_format))
        cols["first_response_at"].append(_fmt(t.first_response_at, t.ts_format))
        cols["resolved_at"].append(_fmt(t.resolved_at, t.ts_format))
        cols["status"].append(t.status)
        cols["channel"].append(t.channel)
        cols["priority"].append(t.priority)
        cols["category"].append(t.category)
        cols["subcategory"].append(t.subcategory)
        cols["product"].append(t.product)
        cols["tags"].append(";".join(t.tags))
        cols["team"].append(t.team)
        cols["assignee"].append(t.assignee)
        cols["customer_name"].append(t.customer_name)
        cols["customer_email"].append(t.customer_email)
        cols["language"].append(t.language)
        cols["csat"].append(t.csat)
        cols["subject"].append(t.subject)
        cols["description"].append(t.description)
    return cols


def _message_rows(tickets: list[Ticket]) -> dict[str, list]:
    cols: dict[str, list] = defaultdict(list)
    for t in tickets:
        for m in t.messages:
            cols["ticket_id"].append(t.ticket_id)
            cols["seq"].append(m.seq)
            cols["role"].append(m.role)
            cols["author"].append(m.author)
            cols["created_at"].append(_fmt(m.created_at))
            cols["body"].append(m.body)
            cols["public"].append("true" if m.public else "false")
    return cols


def _write(df: pl.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        df.write_csv(path)
    elif fmt == "jsonl":
        df.write_ndjson(path)
    else:
        df.write_parquet(path)


# Canonical field -> column of the generated tickets export.
TICKET_FIELD_MAP: dict[str, str] = {
    "ticket_id": "ticket_id",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "first_response_at": "first_response_at",
    "resolved_at": "resolved_at",
    "status": "status",
    "channel": "channel",
    "priority": "priority",
    "category": "category",
    "subcategory": "subcategory",
    "product": "product",
    "tags": "tags",
    "team": "team",
    "assignee_id": "assignee",
    "customer_id": "customer_email",
    "language": "language",
    "csat": "csat",
    "subject": "subject",
    "description": "description",
}


def config_for(spec: GeneratorSpec, tickets_file: str, messages_file: str | None) -> dict:
    mapping: dict = {
        "fields": dict(TICKET_FIELD_MAP),
        "tags_separator": ";",
        "pseudonymize": ["customer_id", "assignee_id"],
    }
    if messages_file:
        mapping["messages"] = {
            "file": {
                "path": messages_file,
                "fields": {
                    "ticket_id": "ticket_id",
                    "seq": "seq",
                    "author_role": "role",
                    "author_id": "author",
                    "created_at": "created_at",
                    "body": "body",
                    "is_public": "public",
                },
            }
        }
    return {
        "audit": {
            "name": "sample-history",
            "output_dir": "out",
            "duckdb_path": "audit.duckdb",
            # Dagster's monthly partitions start with the history, not years before it.
            "partitions_start": spec.start_month.isoformat(),
        },
        "sources": [{"name": "helpdesk", "kind": "file", "path": tickets_file, "mapping": mapping}],
        "taxonomy": {
            "categories": vocab.TAXONOMY,
            "catch_all": [vocab.CATCH_ALL, "General"],
            "teams": vocab.TEAMS,
            "products": vocab.PRODUCTS,
        },
        "pii": {"allow_list": vocab.COMPANY_ALLOW_LIST},
        # The export moment: timestamps after it are future-dated defects (docs/quality.md).
        "quality": {"as_of": _export_moment(spec).isoformat()},
    }


def _export_moment(spec: GeneratorSpec) -> datetime:
    end = spec.end_month
    return datetime(end.year + (end.month == 12), end.month % 12 + 1, 1)


def generate_history(spec: GeneratorSpec, directory: str | Path) -> GeneratedHistory:
    """Generate a history into `directory` (created); returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tickets, builder = build(spec)
    ext = spec.format
    tickets_path = directory / f"tickets.{ext}"
    _write(pl.DataFrame(_ticket_rows(tickets), infer_schema_length=None), tickets_path, ext)
    messages_path = None
    if spec.messages:
        messages_path = directory / f"messages.{ext}"
        _write(pl.DataFrame(_message_rows(tickets)), messages_path, ext)

    conflicts = _label_conflicts(tickets)
    truth = {
        "ticket_id": [t.ticket_id for t in tickets],
        "true_category": [t.true_category for t in tickets],
        "true_subcategory": [t.true_subcategory for t in tickets],
        "duplicate_of": [t.duplicate_of for t in tickets],
        **{d: [int(d in t.defects) for t in tickets] for d in DEFECTS},
        "label_conflict": [int(t.ticket_id in conflicts) for t in tickets],
        "pii_entities": [";".join(sorted({p["entity_type"] for p in t.pii})) for t in tickets],
    }
    truth_path = directory / "truth.csv"
    pl.DataFrame(truth).write_csv(truth_path)
    pii_truth_path = directory / "pii_truth.jsonl"
    with pii_truth_path.open("w") as fh:
        for t in tickets:
            for span in t.pii:
                fh.write(json.dumps({"ticket_id": t.ticket_id, **span}) + "\n")

    planted = {d: sum(d in t.defects for t in tickets) for d in DEFECTS}
    manifest = {
        "spec": spec.model_dump(mode="json"),
        "export_date": builder.export_date.isoformat(),
        "tickets_written": len(tickets),
        "messages_written": sum(len(t.messages) for t in tickets) if spec.messages else 0,
        "expected_quarantined": planted["invalid_timestamp"],
        "planted": planted,
        "rates": {d: c / len(tickets) for d, c in planted.items()},
        "label_conflict_tickets": len(conflicts),
        "files": {
            "tickets": tickets_path.name,
            "messages": messages_path.name if messages_path else None,
            "truth": truth_path.name,
            "pii_truth": pii_truth_path.name,
            "config": "audit.yaml",
        },
        "defects": DEFECTS,
    }
    manifest_path = directory / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2))
    config_path = directory / "audit.yaml"
    config = config_for(spec, tickets_path.name, messages_path.name if messages_path else None)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return GeneratedHistory(
        directory,
        config_path,
        manifest_path,
        tickets_path,
        messages_path,
        truth_path,
        pii_truth_path,
    )
