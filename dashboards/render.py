"""Render every dashboard to deterministic JSON (sorted keys, explicit panel ids) and write it."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import families, fleet, target

#: Output file name -> builder. The order is the order in docs/dashboards.md.
DASHBOARDS: dict[str, Callable[[], dashboard.Dashboard]] = {
    "capmon-fleet-overview.json": fleet.build,
    "capmon-target-detail.json": target.build,
    "capmon-probe-families.json": families.build,
}
#: Where ``python -m dashboards`` writes, relative to the package.
BUILD_DIR = Path(__file__).resolve().parent / "build"


def to_dict(board: dashboard.Dashboard) -> dict[str, Any]:
    """The dashboard as plain JSON data, with panel ids numbered 1.. in layout order."""
    data: dict[str, Any] = json.loads(JSONEncoder().encode(board.build()))
    for number, panel in enumerate(data.get("panels", []), start=1):
        # The SDK leaves ids unset or 0; Grafana needs them unique for links and repeats.
        panel["id"] = number
    return data


def render_all() -> dict[str, str]:
    """File name -> JSON text for every dashboard; identical on every call."""
    with warnings.catch_warnings():
        # The SDK marks the v1 dashboard schema deprecated in favour of v2, which Grafana < 12 cannot import.
        warnings.simplefilter("ignore", DeprecationWarning)
        boards = {name: to_dict(build()) for name, build in DASHBOARDS.items()}
    return {name: json.dumps(data, indent=2, sort_keys=True) + "\n" for name, data in boards.items()}


def write_all(out_dir: Path = BUILD_DIR) -> list[Path]:
    """Write every dashboard under ``out_dir``; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all().items():
        path = out_dir / name
        path.write_text(text)
        written.append(path)
    return written


def stale(out_dir: Path = BUILD_DIR) -> list[str]:
    """Names of dashboards whose file under ``out_dir`` differs from what the code builds."""
    return [
        name
        for name, text in render_all().items()
        if not (out_dir / name).is_file() or (out_dir / name).read_text() != text
    ]
