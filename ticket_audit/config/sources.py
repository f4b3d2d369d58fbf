"""Where tickets come from. Each source kind has its own model; `kind` selects it.

Secrets (database passwords, API tokens) never appear here: a source names the environment
variable that holds one (`password_env`, `token_env`, ...), and the connector reads it at run
time. docs/connectors.md documents every kind.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ticket_audit.config.mapping import Mapping, RowNumber, Strict, text_value_maps
from ticket_audit.config.vendors import FRESHDESK_MAPPING, ZENDESK_MAPPING
from ticket_audit.model import MESSAGE_COLUMNS

SOURCE_NAME = r"^[a-z][a-z0-9_]*$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


FileFormat = Literal["csv", "jsonl", "parquet", "excel"]


class SourceFile(Strict):
    """One file (or glob) of a source whose files differ in their columns."""

    path: str
    format: FileFormat | None = None
    # Spreadsheets: the sheet to read (default: the first).
    sheet: str | None = None
    # Default: the source's `mapping`.
    mapping: Mapping | None = None


class FileSource(Strict):
    kind: Literal["file"] = "file"
    name: str = Field(pattern=SOURCE_NAME)
    # A file, a directory (every supported file in it) or a glob; relative to the config file.
    path: str | None = None
    format: FileFormat | None = None
    # Spreadsheets (.xlsx/.xls): the sheet to read (default: the first).
    sheet: str | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    # One export spread over files whose columns differ: each file with its own mapping.
    files: list[SourceFile] | None = Field(default=None, min_length=1)
    # The mapping of `path`, and of every entry of `files` without its own. With `files` only,
    # the first file's mapping stands for the source where one is needed (its messages).
    mapping: Mapping = None  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _default_mapping(cls, data):
        if isinstance(data, dict) and data.get("mapping") is None and data.get("files"):
            first = data["files"][0]
            if isinstance(first, dict) and first.get("mapping") is not None:
                data = {**data, "mapping": first["mapping"]}
        return data

    @model_validator(mode="after")
    def _paths(self) -> FileSource:
        if (self.path is None) == (self.files is None):
            raise ValueError("give exactly one of `path` or `files`")
        if self.mapping is None:
            raise ValueError("mapping: required (for the source, or for its first file)")
        for i, f in enumerate(self.files or []):
            if f.mapping is None or f.mapping.messages == self.mapping.messages:
                continue
            if i > 0 or f.mapping.messages != type(f.mapping.messages)():
                raise ValueError(
                    f"files[{i}].mapping.messages: the conversation belongs to the source's "
                    "`mapping` (or the first file's)"
                )
        return self

    def entries(self) -> list[SourceFile]:
        """Each configured file with the mapping, format and sheet it is read with."""
        if self.files is None:
            return [
                SourceFile(
                    path=self.path, format=self.format, sheet=self.sheet, mapping=self.mapping
                )
            ]
        return [
            f.model_copy(
                update={
                    "mapping": f.mapping or self.mapping,
                    "format": f.format or self.format,
                    "sheet": f.sheet or self.sheet,
                }
            )
            for f in self.files
        ]

    def mappings(self) -> list[Mapping]:
        return [e.mapping for e in self.entries()]


class SqlMessages(Strict):
    """The conversation in a table (or query) of its own, joined to tickets by ticket id."""

    table: str | None = None
    query: str | None = None
    # canonical message field -> column; `ticket_id` and `body` are required.
    fields: dict[str, str]
    role_map: dict[str, str] = Field(default_factory=dict)
    # Message field -> {raw value: value}, before parsing (as for message files).
    value_maps: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("value_maps", mode="before")
    @classmethod
    def _texts(cls, v):
        return text_value_maps(v)

    @model_validator(mode="after")
    def _check(self) -> SqlMessages:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of `table` or `query`")
        unknown = sorted(set(self.fields) - set(MESSAGE_COLUMNS))
        if unknown:
            raise ValueError(f"fields: unknown canonical message field(s) {unknown}")
        for required in ("ticket_id", "body"):
            if required not in self.fields:
                raise ValueError(f"fields: missing required message field {required!r}")
        unmapped = sorted(set(self.value_maps) - set(self.fields))
        if unmapped:
            raise ValueError(f"value_maps: field(s) {unmapped} not mapped in `fields`")
        return self


class _SqlSource(Strict):
    name: str = Field(pattern=SOURCE_NAME)
    host: str = "127.0.0.1"
    port: int = Field(gt=0, lt=65536)
    database: str
    user: str
    # Name of the environment variable holding the password (None: no password).
    password_env: str | None = Field(default=None, pattern=ENV_NAME)
    # Exactly one of: a table (optionally schema-qualified) or a SELECT query.
    table: str | None = None
    query: str | None = None
    # Unique, non-null column that orders rows with equal cursor values (keyset pagination).
    # Default: the column mapped to ticket_id.
    key_column: str | None = None
    # Column that grows when a row changes (e.g. updated_at); None reads everything each run.
    cursor_column: str | None = None
    # SQL boolean expression over the row, evaluated by the database: true marks the ticket
    # deleted (soft deletes), e.g. "is_deleted" or "status = 'deleted'".
    deleted_condition: str | None = None
    # After a complete run, tickets whose key no longer exists in the table get deleted_at set.
    detect_hard_deletes: bool = False
    messages: SqlMessages | None = None
    connect_timeout_s: int = Field(default=10, gt=0)
    # Extra connection parameters passed to the driver (e.g. sslmode: require).
    options: dict[str, str] = Field(default_factory=dict)
    mapping: Mapping

    @model_validator(mode="after")
    def _check(self):
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of `table` or `query`")
        if isinstance(self.mapping.spec("ticket_id"), RowNumber):
            raise ValueError(
                "mapping.fields.ticket_id: {row_number: true} is for file sources; a table's "
                "rows have no stable order, name its key column"
            )
        if self.mapping.messages.file is not None:
            raise ValueError(
                "mapping.messages.file is for file sources; use `messages` (table or query)"
            )
        ticket_columns = self.mapping.columns_for("ticket_id")
        if self.key_column is None and len(ticket_columns) != 1:
            raise ValueError("set `key_column`: ticket_id is mapped to several columns")
        if self.detect_hard_deletes and (
            ticket_columns != [self.key()] or "ticket_id" in self.mapping.value_maps
        ):
            raise ValueError(
                "detect_hard_deletes needs `key_column` to be the one column mapped to ticket_id"
            )
        return self

    def key(self) -> str:
        return self.key_column or self.mapping.columns_for("ticket_id")[0]


class PostgresSource(_SqlSource):
    kind: Literal["postgres"]
    port: int = Field(default=5432, gt=0, lt=65536)
    user: str = "postgres"


class MySqlSource(_SqlSource):
    """MySQL or MariaDB."""

    kind: Literal["mysql"]
    port: int = Field(default=3306, gt=0, lt=65536)
    user: str = "root"


class _HelpdeskSource(Strict):
    name: str = Field(pattern=SOURCE_NAME)
    # Overrides the vendor URL built from the account name (proxies, tests).
    base_url: str | None = Field(default=None, pattern=r"^https?://")
    timeout_s: float = Field(default=30.0, gt=0)
    # Attempts per request on 5xx, timeouts and dropped connections (429 waits don't count).
    max_retries: int = Field(default=5, ge=0)
    backoff_s: float = Field(default=1.0, ge=0)
    # Longest single wait for Retry-After or backoff; longer demands stop the load.
    max_wait_s: float = Field(default=300.0, gt=0)
    # Hard bound on requests of one run, so a misbehaving server cannot loop us forever.
    max_requests: int = Field(default=100_000, gt=0)
    # Fetch each ticket's conversation (one more request per ticket).
    messages: bool = True

    @model_validator(mode="after")
    def _no_message_file(self):
        if isinstance(self.mapping.spec("ticket_id"), RowNumber):
            raise ValueError("mapping.fields.ticket_id: {row_number: true} is for file sources")
        if self.mapping.messages.file is not None or self.mapping.messages.from_columns:
            raise ValueError(
                "mapping.messages: helpdesk sources load the conversation from the API; "
                "leave `messages` out of the mapping"
            )
        return self


def _zendesk_mapping() -> Mapping:
    return Mapping.model_validate(ZENDESK_MAPPING)


def _freshdesk_mapping() -> Mapping:
    return Mapping.model_validate(FRESHDESK_MAPPING)


class ZendeskSource(_HelpdeskSource):
    kind: Literal["zendesk"]
    # https://{subdomain}.zendesk.com
    subdomain: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    # API token auth ("{email}/token:{token}"); both values come from the environment.
    email_env: str = Field(default="ZENDESK_EMAIL", pattern=ENV_NAME)
    token_env: str = Field(default="ZENDESK_API_TOKEN", pattern=ENV_NAME)
    # The first export starts here; later runs continue from the stored cursor.
    start_time: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    include: list[str] = Field(default_factory=lambda: ["users", "groups", "metric_sets"])
    per_page: int = Field(default=1000, gt=0, le=1000)
    mapping: Mapping = Field(default_factory=_zendesk_mapping)

    @model_validator(mode="after")
    def _where(self) -> ZendeskSource:
        if (self.subdomain is None) == (self.base_url is None):
            raise ValueError("give exactly one of `subdomain` or `base_url`")
        return self


class FreshdeskSource(_HelpdeskSource):
    kind: Literal["freshdesk"]
    # https://{domain}.freshdesk.com
    domain: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    api_key_env: str = Field(default="FRESHDESK_API_KEY", pattern=ENV_NAME)
    # Freshdesk lists only the last 30 days without `updated_since`; the first run starts here.
    updated_since: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    include: list[str] = Field(default_factory=lambda: ["requester", "stats", "description"])
    per_page: int = Field(default=100, gt=0, le=100)
    # Also list deleted tickets (filter=deleted) to mark them deleted.
    deleted: bool = True
    mapping: Mapping = Field(default_factory=_freshdesk_mapping)

    @model_validator(mode="after")
    def _where(self) -> FreshdeskSource:
        if (self.domain is None) == (self.base_url is None):
            raise ValueError("give exactly one of `domain` or `base_url`")
        return self

    @field_validator("include")
    @classmethod
    def _known_includes(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - {"requester", "stats", "description", "company"})
        if unknown:
            raise ValueError(f"unknown include(s) {unknown}")
        return v


SourceConfig = Annotated[
    FileSource | PostgresSource | MySqlSource | ZendeskSource | FreshdeskSource,
    Field(discriminator="kind"),
]
INCREMENTAL_KINDS = ("postgres", "mysql", "zendesk", "freshdesk")
