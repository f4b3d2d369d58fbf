"""The audit configuration: one YAML file, validated, with errors that name the bad key.

This package is the single source of truth for settings; the CLI, the Dagster code location
and the benchmarks all load it through :func:`load_config`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, model_validator

from ticket_audit.config.audit import AuditSection, IngestSection
from ticket_audit.config.mapping import Mapping, Strict
from ticket_audit.config.ownership import OwnershipSection
from ticket_audit.config.pii import PiiSection
from ticket_audit.config.quality import QualitySection
from ticket_audit.config.readiness import ReadinessSection
from ticket_audit.config.retrieval import RetrievalSection
from ticket_audit.config.sources import FileSource, SourceConfig
from ticket_audit.config.taxonomy import Taxonomy

__all__ = [
    "AuditConfig",
    "ConfigError",
    "FileSource",
    "Mapping",
    "Taxonomy",
    "load_config",
]


class ConfigError(ValueError):
    """A configuration that cannot run; the message names the file and the key."""


# Settings that change how fast or in how much memory an audit runs, never what it finds.
# Left out of the fingerprints that decide what an audit may reuse: tuning them must not
# redo years of history.
PERFORMANCE_KEYS: dict[str, set[str]] = {
    "audit": {"memory_limit"},
    "ingest": {"memory_limit", "batch_rows"},
    "pii": {"n_process", "batch_size", "cache_segments"},
}


class AuditConfig(Strict):
    audit: AuditSection = Field(default_factory=AuditSection)
    ingest: IngestSection = Field(default_factory=IngestSection)
    sources: list[SourceConfig]
    taxonomy: Taxonomy = Field(default_factory=Taxonomy)
    quality: QualitySection = Field(default_factory=QualitySection)
    pii: PiiSection = Field(default_factory=PiiSection)
    ownership: OwnershipSection = Field(default_factory=OwnershipSection)
    retrieval: RetrievalSection = Field(default_factory=RetrievalSection)
    readiness: ReadinessSection = Field(default_factory=ReadinessSection)
    # Directory the config was read from; relative paths in it resolve against this.
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)

    @model_validator(mode="after")
    def _unique_source_names(self) -> AuditConfig:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"sources: duplicate source name(s) {dupes}")
        if not self.sources:
            raise ValueError("sources: at least one source is required")
        return self

    def results_json(self) -> str:
        """The settings as JSON, without PERFORMANCE_KEYS: equal for two configurations
        whose audits find the same things."""
        return self.model_dump_json(exclude=PERFORMANCE_KEYS)

    def mappings(self) -> list[Mapping]:
        """Every mapping of every source (a source of differing files has one per file)."""
        out: list[Mapping] = []
        for s in self.sources:
            out += s.mappings() if isinstance(s, FileSource) else [s.mapping]
        return out

    def maps_field(self, field: str) -> bool:
        return any(field in m.fields for m in self.mappings())

    def resolve(self, path: str | Path) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def duckdb_path(self) -> Path:
        return self.resolve(self.audit.duckdb_path)

    @property
    def output_dir(self) -> Path:
        return self.resolve(self.audit.output_dir)

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(f"no source named {name!r}; configured: {[s.name for s in self.sources]}")


def _format_location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("file",) and out.endswith("sources"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_config(data: dict[str, Any], *, base_dir: Path, origin: str = "<config>") -> AuditConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping of sections")
    try:
        return AuditConfig.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = _format_location(tuple(p for p in err["loc"] if p != "file"))
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"  {loc}: {msg}")
        raise ConfigError(f"{origin}: invalid configuration\n" + "\n".join(lines)) from None


_ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


def _expand_env(value: Any) -> Any:
    """`${VAR}` / `${VAR:-default}` in string values (paths to shared data, hosts)."""
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            found = os.environ.get(m.group(1))
            if found is None and m.group(2) is None:
                raise ConfigError(f"environment variable {m.group(1)} is not set")
            return found if found is not None else m.group(2)

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand_env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v) for v in value]
    return value


class _TextDates(yaml.SafeLoader):
    """YAML without implicit dates: `2020-13-01` stays text, and the model's date fields
    reject it naming the key (PyYAML's own conversion raises a bare ValueError)."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_config(path: str | Path) -> AuditConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDates)  # noqa: S506
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        data = _expand_env(data or {})
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse_config(data, base_dir=path.resolve().parent, origin=str(path))
