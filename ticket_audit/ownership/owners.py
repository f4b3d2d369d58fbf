"""The owners file: who owns each area of the ticket data, and when they last reviewed it.

Format in docs/ownership.md. Errors name the file and the key, like the audit configuration.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, field_validator

from ticket_audit.config import AuditConfig, ConfigError
from ticket_audit.config.mapping import Strict
from ticket_audit.model import MESSAGE_COLUMNS, TICKET_COLUMNS

# The five responsibilities the audit asks about, in the order the scorecard lists them.
AREAS: dict[str, str] = {
    "schema": "Ticket schema",
    "taxonomy": "Taxonomy and tagging",
    "cleaning": "Cleaning pipeline",
    "pii": "PII handling",
    "retrieval": "Retrieval index",
}

# Dagster asset groups each area is responsible for, unless the owners file says otherwise.
DEFAULT_GROUPS: dict[str, list[str]] = {
    "schema": ["ingest"],
    "taxonomy": ["quality"],
    "cleaning": ["quality"],
    "pii": ["pii"],
    "retrieval": ["readiness"],
}

# Same rule Dagster applies to asset owners, so a file that loads here also loads there.
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,7}")
TEAM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]*")
STEWARDABLE = frozenset(TICKET_COLUMNS) | {f"messages.{c}" for c in MESSAGE_COLUMNS}


class AreaOwner(Strict):
    team: str | None = None
    contact: str | None = None
    last_review: date | None = None
    # Canonical fields this area is steward of (ticket fields, or messages.<field>).
    fields: list[str] = Field(default_factory=list)
    dagster_groups: list[str] | None = None

    @field_validator("team")
    @classmethod
    def _team(cls, v: str | None) -> str | None:
        if v is not None and not TEAM_RE.fullmatch(v):
            raise ValueError(f"team {v!r}: letters, digits, space, '.', '_' or '-' only")
        return v

    @field_validator("contact")
    @classmethod
    def _contact(cls, v: str | None) -> str | None:
        if v is not None and not EMAIL_RE.fullmatch(v):
            raise ValueError(f"contact {v!r} is not an email address")
        return v

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - STEWARDABLE)
        if unknown:
            raise ValueError(
                f"unknown field(s) {unknown}; use canonical ticket fields or messages.<field>"
            )
        return v

    @property
    def owned(self) -> bool:
        return bool(self.team or self.contact)

    def display(self) -> str | None:
        if self.team:
            return f"team:{self.team}"
        return self.contact

    def dagster_owners(self) -> list[str]:
        return [o for o in (f"team:{self.team}" if self.team else None, self.contact) if o]


class OwnersFile(Strict):
    # An area that is absent or null has no owner; the scorecard reports it as missing.
    areas: dict[str, AreaOwner | None] = Field(default_factory=dict)

    @field_validator("areas", mode="before")
    @classmethod
    def _known_areas(cls, v: object) -> object:
        # A typo ("taxnomy") would otherwise read as an unowned area and a silent extra.
        unknown = sorted(set(v) - set(AREAS)) if isinstance(v, dict) else []
        if unknown:
            raise ValueError(f"unknown area(s) {unknown}; known: {list(AREAS)}")
        return v

    def area(self, name: str) -> AreaOwner | None:
        owner = self.areas.get(name)
        return owner if owner is not None and owner.owned else None


def _location(loc: tuple) -> str:
    return ".".join(str(p) for p in loc if p not in ("function-after", "AreaOwner"))


def parse_owners(data: object, origin: str = "<owners>") -> OwnersFile:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping with an 'areas' key")
    try:
        return OwnersFile.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"  {_location(e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise ConfigError(f"{origin}: invalid owners file\n" + "\n".join(lines)) from None


def load_owners(path: str | Path) -> OwnersFile:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: owners file not found (ownership.owners_file)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_owners(data, origin=str(path))


def owners_for_config(cfg: AuditConfig) -> tuple[OwnersFile | None, Path | None]:
    """The owners declared for an audit, or (None, None) when no owners file is configured."""
    if not cfg.ownership.owners_file:
        return None, None
    path = cfg.resolve(cfg.ownership.owners_file)
    return load_owners(path), path


def owners_by_group(cfg: AuditConfig) -> dict[str, list[str]]:
    """Dagster asset group -> owners (``team:<name>`` and contact emails) from the owners file."""
    owners, _ = owners_for_config(cfg)
    if owners is None:
        return {}
    groups: dict[str, list[str]] = {}
    for name in AREAS:
        area = owners.area(name)
        if area is None:
            continue
        for group in (
            area.dagster_groups if area.dagster_groups is not None else DEFAULT_GROUPS[name]
        ):
            bucket = groups.setdefault(group, [])
            bucket.extend(o for o in area.dagster_owners() if o not in bucket)
    return groups
