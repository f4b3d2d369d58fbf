"""How one source's columns become canonical tickets and messages (configuration, not code)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ticket_audit.model import AUTHOR_ROLES, MESSAGE_COLUMNS, TICKET_COLUMNS, ticket_by_name


def _parses(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


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


class Constant(Strict):
    """`{value: ...}`: the same value for every row of the source (a whole file from one channel)."""

    value: str


class RowNumber(Strict):
    """`{row_number: true}`: an id made of source, file and row number, stable per file."""

    row_number: Literal[True]


class Columns(Strict):
    """`{columns: [...]}`: several columns into one list field (empty cells dropped)."""

    columns: list[str] = Field(min_length=1)


class OneHot(Strict):
    """`{one_hot: [...]}`: one 0/1 column per label, named after the label. One column set:
    that label; several set: a multi-label ticket, kept with its labels in `labels` and no
    single category (never a wrong one); none set: unlabelled."""

    one_hot: list[str] = Field(min_length=1)


FieldSpec = str | list[str] | Constant | RowNumber | Columns | OneHot
_SPEC_KEYS = {"value": Constant, "row_number": RowNumber, "columns": Columns, "one_hot": OneHot}
# One-hot cells: what counts as set and as not set; anything else quarantines the row.
ONE_HOT_TRUE = ("1", "1.0", "true", "yes", "y", "x")
ONE_HOT_FALSE = ("0", "0.0", "false", "no", "n")


def _field_spec(name: str, value: Any) -> Any:
    """Checks one `fields` entry and says what is wrong with it in terms of the key."""
    if isinstance(value, str | list) or not isinstance(value, dict):
        if isinstance(value, list) and not all(isinstance(c, str) and c for c in value):
            raise ValueError(f"{name}: a list names columns (first non-empty of these)")
        if isinstance(value, list) and not value:
            raise ValueError(f"{name}: an empty list names no column")
        if not isinstance(value, str | list):
            raise ValueError(
                f"{name}: give a column name, a list of columns, or one of "
                f"{{value: ...}}, {{row_number: true}}, {{columns: [...]}}, {{one_hot: [...]}}"
            )
        return value
    keys = set(value)
    if len(keys) != 1 or not keys <= set(_SPEC_KEYS):
        raise ValueError(
            f"{name}: {sorted(keys)} is not a field form; use exactly one of {sorted(_SPEC_KEYS)}"
        )
    (key,) = keys
    field = ticket_by_name().get(name)
    kind = field.kind if field else "scalar"
    inner = value[key]
    if key == "value":
        if isinstance(inner, bool | int | float) and not isinstance(inner, bool):
            inner = str(inner)
        if isinstance(inner, bool) or not isinstance(inner, str) or not inner.strip():
            raise ValueError(f"{name}.value: a constant must be a non-empty text or number")
        if name == "ticket_id":
            raise ValueError(
                "ticket_id.value: a constant id would make every row the same ticket; "
                "use {row_number: true} for an export without ids"
            )
        return {"value": inner}
    if key == "row_number":
        if inner is not True:
            raise ValueError(f"{name}.row_number: must be true")
        if name != "ticket_id":
            raise ValueError(f"{name}.row_number: only ticket_id can be a row number")
    elif key == "columns":
        if kind != "list":
            raise ValueError(
                f"{name}.columns: several columns into one list is for list fields "
                f"(tags); for 'first non-empty of these columns' give a plain list"
            )
        if not isinstance(inner, list) or not inner or not all(isinstance(c, str) for c in inner):
            raise ValueError(f"{name}.columns: give a non-empty list of column names")
    elif key == "one_hot":
        if name in ("ticket_id", "labels") or kind != "scalar":
            raise ValueError(
                f"{name}.one_hot: one-hot label columns map onto a label field "
                f"(category, subcategory, team, product, ...), not a {kind} field"
            )
        if not isinstance(inner, list) or not inner or not all(isinstance(c, str) for c in inner):
            raise ValueError(f"{name}.one_hot: give a non-empty list of 0/1 column names")
        if len(set(inner)) != len(inner):
            raise ValueError(f"{name}.one_hot: a column is listed twice")
    return value


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


def _as_text(value: Any) -> str:
    """A YAML scalar as the text a value map compares or yields (true -> "true", 1 -> "1")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueError(f"{value!r} is not a text, number or boolean")


def text_value_maps(v: Any) -> Any:
    """`value_maps` of a message export with YAML scalars as text ({"0.0": true} -> "true")."""
    if not isinstance(v, dict):
        return v
    out = {}
    for field, mapping in v.items():
        if not isinstance(mapping, dict):
            raise ValueError(f"{field}: give a mapping of raw value -> value")
        try:
            out[field] = {_as_text(k): _as_text(x) for k, x in mapping.items()}
        except ValueError as exc:
            raise ValueError(f"{field}: {exc}") from None
    return out


class ThreadBy(Strict):
    """Threads linked by reply ids: a message's ticket is the first message of its chain."""

    id: str
    in_reply_to: str


class MessagesFile(Strict):
    """A separate export of conversation messages, joined to tickets by ticket id (or by
    reply chains, `thread_by`); one row per message, or per utterance (`group_rows_by`)."""

    path: str
    format: Literal["csv", "jsonl", "parquet", "excel"] | None = None
    # Spreadsheets: the sheet to read (default: the first).
    sheet: str | None = None
    encoding: str = "utf-8"
    fields: dict[str, str]
    # Raw role -> customer/agent/system; a role neither mapped nor canonical quarantines
    # the message.
    role_map: dict[str, str] = Field(default_factory=dict)
    # Message field -> {raw value: value}, applied before parsing (e.g. is_public from an
    # "is_private" column written "0.0"/"1.0": {"0.0": true, "1.0": false}).
    value_maps: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Rows that make one message (one row per utterance or line), joined in `order_by` order.
    group_rows_by: list[str] | None = Field(default=None, min_length=1)
    # Order of rows within a message and of messages within a ticket (numbers compare as
    # numbers); also gives `seq` when no column is mapped to it.
    order_by: str | list[str] | None = None
    thread_by: ThreadBy | None = None

    @field_validator("value_maps", mode="before")
    @classmethod
    def _texts(cls, v: Any) -> Any:
        return text_value_maps(v)

    @field_validator("role_map", mode="before")
    @classmethod
    def _role_texts(cls, v: Any) -> Any:
        return {_as_text(k): r for k, r in v.items()} if isinstance(v, dict) else v

    @field_validator("fields")
    @classmethod
    def _known_message_fields(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(MESSAGE_COLUMNS))
        if unknown:
            raise ValueError(
                f"unknown canonical message field(s) {unknown}; known: {list(MESSAGE_COLUMNS)}"
            )
        if "body" not in v:
            raise ValueError("missing required message field 'body'")
        return v

    @field_validator("role_map")
    @classmethod
    def _known_roles(cls, v: dict[str, str]) -> dict[str, str]:
        bad = {k: r for k, r in v.items() if r not in AUTHOR_ROLES}
        if bad:
            raise ValueError(f"roles must be one of {list(AUTHOR_ROLES)}, got {bad}")
        return v

    @model_validator(mode="after")
    def _ticket_key(self) -> MessagesFile:
        if self.thread_by is None and "ticket_id" not in self.fields:
            raise ValueError(
                "fields: missing required message field 'ticket_id' (or give `thread_by` "
                "for threads linked by reply ids)"
            )
        if self.thread_by is not None and "ticket_id" in self.fields:
            raise ValueError(
                "thread_by: the ticket of a threaded message is its chain's first message; "
                "leave ticket_id out of `fields`"
            )
        unknown = sorted(set(self.value_maps) - set(MESSAGE_COLUMNS))
        if unknown:
            raise ValueError(f"value_maps: unknown canonical message field(s) {unknown}")
        unmapped = sorted(set(self.value_maps) - set(self.fields))
        if unmapped:
            raise ValueError(f"value_maps: field(s) {unmapped} not mapped in `fields`")
        for field, vm in self.value_maps.items():
            if field == "is_public":
                bad = {k: x for k, x in vm.items() if x.lower() not in BOOLEAN_TEXT}
                if bad:
                    raise ValueError(f"value_maps.is_public: {bad} are not true/false")
            if field == "author_role":
                raise ValueError("value_maps.author_role: use `role_map` for roles")
        if self.order_by is not None and self.group_rows_by is None and "seq" in self.fields:
            raise ValueError("order_by: seq is mapped; order_by orders grouped rows only then")
        return self

    def order_columns(self) -> list[str]:
        if self.order_by is None:
            return []
        return [self.order_by] if isinstance(self.order_by, str) else list(self.order_by)

    def source_columns(self) -> list[str]:
        cols = list(self.fields.values()) + list(self.group_rows_by or []) + self.order_columns()
        if self.thread_by is not None:
            cols += [self.thread_by.id, self.thread_by.in_reply_to]
        return list(dict.fromkeys(cols))


# Text a strict boolean accepts (after value_maps); anything else quarantines the message.
BOOLEAN_TEXT = {
    "true": True,
    "false": False,
    "t": True,
    "f": False,
    "1": True,
    "0": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
}


class MessagesMapping(Strict):
    from_columns: list[MessageColumn] = Field(default_factory=list)
    file: MessagesFile | None = None


class Mapping(Strict):
    """Source column -> canonical field, value maps, timestamp formats, text columns."""

    # A column; a list means "first non-empty of these columns", for exports that split a
    # fact; or one of the forms above (constant, row number, several columns, one-hot).
    fields: dict[str, FieldSpec]
    value_maps: dict[str, dict[str, str]] = Field(default_factory=dict)
    timestamp_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_TIMESTAMP_FORMATS))
    tags_separator: str = ","
    # Canonical fields replaced by a keyed hash at load time so the canonical zone holds
    # no direct customer identifiers.
    pseudonymize: list[str] = Field(default_factory=lambda: ["customer_id"])
    # Canonical ticket fields with free text (scanned for PII, used by text analytics).
    text_fields: list[str] = Field(default_factory=lambda: ["subject", "description"])
    messages: MessagesMapping = Field(default_factory=MessagesMapping)

    @field_validator("fields", mode="before")
    @classmethod
    def _field_forms(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            raise ValueError("fields: give a mapping of canonical field -> column(s)")
        return {k: _field_spec(k, spec) for k, spec in v.items()}

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, v: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
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
        fields = ticket_by_name()
        for name, spec in self.fields.items():
            if (
                isinstance(spec, Constant)
                and fields[name].kind == "timestamp"
                and not any(_parses(spec.value, f) for f in self.timestamp_formats)
            ):
                raise ValueError(
                    f"fields.{name}.value: {spec.value!r} matches none of timestamp_formats"
                )
            if isinstance(spec, Constant) and fields[name].kind == "integer":
                try:
                    float(spec.value)
                except ValueError:
                    raise ValueError(
                        f"fields.{name}.value: {spec.value!r} is not a number"
                    ) from None
        if "labels" in self.fields and not isinstance(self.fields["labels"], str | list | Columns):
            raise ValueError("fields.labels: give a column or {columns: [...]}")
        return self

    def spec(self, field: str) -> FieldSpec | None:
        return self.fields.get(field)

    def columns_for(self, field: str) -> list[str]:
        """Source columns read for `field` (none for a constant or a row number)."""
        value = self.fields.get(field)
        if value is None or isinstance(value, Constant | RowNumber):
            return []
        if isinstance(value, Columns):
            return list(value.columns)
        if isinstance(value, OneHot):
            return list(value.one_hot)
        return [value] if isinstance(value, str) else list(value)

    def is_mapped(self, field: str) -> bool:
        return field in self.fields

    def source_columns(self) -> list[str]:
        cols = [c for f in self.fields for c in self.columns_for(f)]
        cols += [m.column for m in self.messages.from_columns]
        return list(dict.fromkeys(cols))
