"""How one source's columns become canonical tickets and messages (configuration, not code)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ticket_audit.model import AUTHOR_ROLES, MESSAGE_COLUMNS, TICKET_COLUMNS

DEFAULT_TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d",
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageColumn(Strict):
    """A flat export column that holds one message of the conversation (e.g. `Resolution`)."""

    column: str
    author_role: Literal["customer", "agent", "system"]
    # Canonical ticket timestamp the message is dated with (the export has no own time).
    created_at: str | None = None

    @field_validator("created_at")
    @classmethod
    def _known_ticket_timestamp(cls, v: str | None) -> str | None:
        if v is not None and v not in TICKET_COLUMNS:
            raise ValueError(f"unknown canonical ticket field {v!r}")
        return v


class MessagesFile(Strict):
    """A separate export of conversation messages, joined to tickets by ticket id."""

    path: str
    format: Literal["csv", "jsonl", "parquet"] | None = None
    encoding: str = "utf-8"
    fields: dict[str, str]
    role_map: dict[str, str] = Field(default_factory=dict)

    @field_validator("fields")
    @classmethod
    def _known_message_fields(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(MESSAGE_COLUMNS))
        if unknown:
            raise ValueError(
                f"unknown canonical message field(s) {unknown}; known: {list(MESSAGE_COLUMNS)}"
            )
        for required in ("ticket_id", "body"):
            if required not in v:
                raise ValueError(f"missing required message field {required!r}")
        return v

    @field_validator("role_map")
    @classmethod
    def _known_roles(cls, v: dict[str, str]) -> dict[str, str]:
        bad = {k: r for k, r in v.items() if r not in AUTHOR_ROLES}
        if bad:
            raise ValueError(f"roles must be one of {list(AUTHOR_ROLES)}, got {bad}")
        return v


class MessagesMapping(Strict):
    from_columns: list[MessageColumn] = Field(default_factory=list)
    file: MessagesFile | None = None


class Mapping(Strict):
    """Source column -> canonical field, value maps, timestamp formats, text columns."""

    # A list means "first non-empty of these columns", for exports that split a fact.
    fields: dict[str, str | list[str]]
    value_maps: dict[str, dict[str, str]] = Field(default_factory=dict)
    timestamp_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_TIMESTAMP_FORMATS))
    tags_separator: str = ","
    # Canonical fields replaced by a keyed hash at load time so the canonical zone holds
    # no direct customer identifiers.
    pseudonymize: list[str] = Field(default_factory=lambda: ["customer_id"])
    # Canonical ticket fields with free text (scanned for PII, used by text analytics).
    text_fields: list[str] = Field(default_factory=lambda: ["subject", "description"])
    messages: MessagesMapping = Field(default_factory=MessagesMapping)

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, v: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        unknown = sorted(set(v) - set(TICKET_COLUMNS))
        if unknown:
            raise ValueError(f"unknown canonical field(s) {unknown}; known: {list(TICKET_COLUMNS)}")
        for required in ("ticket_id", "created_at"):
            if required not in v:
                raise ValueError(f"missing required field {required!r}")
        return v

    @model_validator(mode="after")
    def _maps_name_mapped_fields(self) -> Mapping:
        for section in ("value_maps", "pseudonymize", "text_fields"):
            names = getattr(self, section)
            unknown = sorted(set(names) - set(TICKET_COLUMNS))
            if unknown:
                raise ValueError(f"{section}: unknown canonical field(s) {unknown}")
        return self

    def columns_for(self, field: str) -> list[str]:
        value = self.fields.get(field)
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)

    def source_columns(self) -> list[str]:
        cols = [c for f in self.fields for c in self.columns_for(f)]
        cols += [m.column for m in self.messages.from_columns]
        return list(dict.fromkeys(cols))
