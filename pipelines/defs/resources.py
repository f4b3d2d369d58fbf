"""The one resource every asset uses: the validated audit configuration and its store."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.settings import CONFIG_ENV, OUTPUT_ENV, config_path
from ticket_audit.config import AuditConfig, load_config
from ticket_audit.store import open_store


class AuditResource(dg.ConfigurableResource):
    """Audit configuration file plus an optional output directory override."""

    config_path: str
    output_dir: str | None = None

    def load(self) -> AuditConfig:
        return load_config(self.config_path)

    @contextmanager
    def store(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cfg = self.load()
        with open_store(cfg.duckdb_path, memory_limit=cfg.audit.memory_limit) as con:
            yield con

    def output_path(self) -> Path:
        path = Path(self.output_dir) if self.output_dir else self.load().output_dir
        path.mkdir(parents=True, exist_ok=True)
        return path


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "audit": AuditResource(
                config_path=dg.EnvVar(CONFIG_ENV) if _env_set(CONFIG_ENV) else config_path(),
                output_dir=dg.EnvVar(OUTPUT_ENV) if _env_set(OUTPUT_ENV) else None,
            )
        }
    )


def _env_set(name: str) -> bool:
    import os

    return bool(os.environ.get(name))
