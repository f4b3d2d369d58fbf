"""The Dagster code location: everything under `defs/` is autoloaded.

Asset owners come from the audit's owners file (docs/ownership.md), so the UI shows the same
people the ownership scorecard names.
"""

from pathlib import Path

import dagster as dg

from pipelines.settings import config_path
from ticket_audit.config import ConfigError, load_config
from ticket_audit.ownership import owners_by_group


def _owners() -> dict[str, list[str]]:
    try:
        return owners_by_group(load_config(config_path()))
    except ConfigError:
        # A broken config still loads the code location; the run reports the error itself.
        return {}


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    groups = _owners()
    return loaded.map_asset_specs(
        func=lambda spec: spec.replace_attributes(
            owners=[*spec.owners, *groups.get(spec.group_name or "default", [])]
        )
    )
