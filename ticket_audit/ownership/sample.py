"""The sample owners file (configs/owners.yaml) for the demo history."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

SAMPLE_OWNERS = Path(__file__).resolve().parents[2] / "configs" / "owners.yaml"


def use_sample_owners(config_path: str | Path, sample: Path = SAMPLE_OWNERS) -> bool:
    """Copy the sample owners file next to a generated audit config and point the config at it.

    Leaves a config that already names an owners file alone; returns whether it changed.
    Without the repository checkout (an installed wheel has no configs/) nothing happens and
    the scorecard reports every area as unowned.
    """
    config_path = Path(config_path)
    data = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    if (data.get("ownership") or {}).get("owners_file") or not sample.is_file():
        return False
    shutil.copyfile(sample, config_path.parent / "owners.yaml")
    data.setdefault("ownership", {})["owners_file"] = "owners.yaml"
    config_path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return True
