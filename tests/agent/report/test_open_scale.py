"""The report spans the levels actually probed (no fixed 1..10 axis) and says which generator version produced what."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agent.config import TargetConfig
from agent.ledger.store import Store
from agent.report import build_report, render_markdown
from agent.report.charts import level_ticks
from tests.agent.stats.test_engine import _result


def test_report_columns_are_the_probed_levels_and_versions_are_listed(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    for level, version, ts in ((12, "3", 100.0), (20, "3", 110.0), (33, "4", 120.0)):
        for i in range(4):
            r = _result(family="arithmetic", difficulty=level, passed=i < 2, ts=ts + i)
            store.add_result(dataclasses.replace(r, generator_version=version))
    target = TargetConfig(name="t1", base_url="http://x.test/v1", model="m")  # type: ignore[arg-type]
    report = build_report(store, [target], since=0.0, until=1000.0, references={"arithmetic": 15.5})
    assert report.levels == [12, 20, 33]
    md = render_markdown(report)
    assert "| skill | endpoint | 12 | 20 | 33 |" in md
    assert "| 10 |" not in md
    versions = [(v.family, v.version, v.probes) for v in report.versions]
    assert versions == [("arithmetic", "3", 8), ("arithmetic", "4", 4)]
    assert "## Generator versions" in md and "| arithmetic | t1 | 4 | 4 |" in md


def test_level_ticks_spread_over_wide_ranges() -> None:
    assert level_ticks([2, 3, 4]) == [2, 3, 4]
    ticks = level_ticks(list(range(1, 41)))
    assert ticks[0] == 1 and ticks[-1] == 40 and len(ticks) <= 11
