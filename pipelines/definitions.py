"""The Dagster code location: everything under `defs/` is autoloaded.

Asset owners come from the audit's owners file (docs/ownership.md), so the UI shows the same
people the ownership scorecard names.
"""

import re
import warnings
from pathlib import Path

import dagster as dg

from pipelines.settings import config_path
from ticket_audit.config import ConfigError, load_config
from ticket_audit.ownership import owners_by_group


def _owners() -> tuple[dict[str, list[str]], list[str]]:
    """Owners per asset group, and the owners of a group whose area has none: the readiness
    layer's escalation contact (`readiness.escalate_to`), as the scorecard names it."""
    try:
        cfg = load_config(config_path())
        groups = owners_by_group(cfg)
    except ConfigError:
        # A broken config still loads the code location; the run reports the error itself.
        return {}, []
    escalate = cfg.readiness.escalate_to
    return groups, [f"team:{escalate}"] if re.fullmatch(r"[A-Za-z0-9_.-]+", escalate) else []


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    groups, fallback = _owners()
    # Definitions.map_asset_specs is Dagster's way to set owners on autoloaded assets; it is
    # marked preview in 1.13 and warned on every load (UI, each run, each CLI audit). The
    # call is ours and pinned by dagster<1.14: its warning is noise to every user.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return loaded.map_asset_specs(
            func=lambda spec: spec.replace_attributes(
                owners=[*spec.owners, *(groups.get(spec.group_name or "default") or fallback)]
            )
        )
