"""The report's "What changed": each change point, the signals that moved, the same canary before/after."""

from __future__ import annotations

from pathlib import Path

from agent.config import TargetConfig
from agent.ledger.store import Store
from agent.report.build import build_report
from agent.report.html import render_html
from agent.report.markdown import render_markdown
from tests.agent.ledger.test_store import _result

EVIDENCE = [
    {"signal": "truncation", "before": 0.0, "after": 0.91, "moved": True,
     "text": "answers truncated: finish_reason=length 0 % → 91 %"},
    {"signal": "output_length", "before": 120.0, "after": 19.0, "moved": True,
     "text": "output length -84% (median 120 → 19)"},
    {"signal": "latency", "before": 0.4, "after": 0.41, "moved": False, "text": "latency p50 0.40 s → 0.41 s"},
]  # fmt: skip


def test_each_change_point_says_what_moved_with_a_canary_before_and_after(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    canary = {"canary": True, "item_key": "canary:fp:1", "prompt": "Describe the sea in one sentence."}
    store.add_result(_result(ts=1000.0, target="t1", response="The sea is a vast body of salt water.", **canary))
    store.add_result(_result(ts=2100.0, target="t1", response="The sea is", **canary))
    store.add_result(_result(ts=1500.0, target="t1"))
    store.add_change_point(
        ts=2000.0, target="t1", scope="signals", detector="truncation", direction="rise", size=0.25,
        statistic=9.0, threshold=9.0, probes=7, evidence=EVIDENCE,
    )  # fmt: skip
    target = TargetConfig(name="t1", base_url="http://x.test/v1", model="m")  # type: ignore[arg-type]
    report = build_report(store, [target], since=0.0, until=3000.0)
    (cp,) = report.change_points
    assert cp.headline == "answers truncated: finish_reason=length 0 % → 91 %; output length -84% (median 120 → 19)"
    assert cp.example is not None and cp.example.before == "The sea is a vast body of salt water."
    assert cp.example.after == "The sea is"
    page = render_html(report)
    section = page.split('<section id="changes">', 1)[1].split("</section>", 1)[0]
    assert "What changed" in section and "signals truncation rise" in section
    assert "answers truncated: finish_reason=length 0 % → 91 %" in section
    assert "Unchanged: latency p50 0.40 s → 0.41 s" in section
    assert "The sea is a vast body of salt water." in section and "Describe the sea in one sentence." in section
    md = render_markdown(report)
    assert "## What changed" in md and "- after (" in md and "output length -84%" in md
    store.close()
