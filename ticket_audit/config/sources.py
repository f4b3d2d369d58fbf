"""Where tickets come from. Each source kind has its own model; `kind` selects it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ticket_audit.config.mapping import Mapping, Strict


class FileSource(Strict):
    kind: Literal["file"] = "file"
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    # A file, a directory (every supported file in it) or a glob; relative to the config file.
    path: str
    format: Literal["csv", "jsonl", "parquet"] | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    mapping: Mapping


SourceConfig = Annotated[FileSource, Field(discriminator="kind")]
