"""The metric-name reader used to check dashboards and rules against docs/metrics.md."""

from __future__ import annotations

from pathlib import Path

from dashboards.promql import documented_metrics, metric_names


def test_plain_selector() -> None:
    assert metric_names('capmon_pass_ratio{target=~"$target",window="1h"}') == {"capmon_pass_ratio"}


def test_functions_grouping_and_ranges_are_not_metrics() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (target, le) "
        '(rate(capmon_probe_duration_seconds_bucket{target=~"a"}[$__rate_interval])))'
    )
    assert metric_names(expr) == {"capmon_probe_duration_seconds_bucket"}


def test_binary_operations_offset_and_keywords() -> None:
    expr = (
        "capmon_frontier_level_upper < on (target, family) (capmon_frontier_level_lower offset 1d) "
        "and ignoring (x) up == bool 0 or vector(0)"
    )
    assert metric_names(expr) == {"capmon_frontier_level_upper", "capmon_frontier_level_lower", "up"}


def test_strings_with_metric_like_text_are_ignored() -> None:
    assert metric_names('label_replace(up, "dst", "capmon_fake", "src", "(.*)")') == {"up"}


def test_recording_rule_names_with_colons() -> None:
    assert metric_names("target:capmon_probe_errors:ratio_rate15m > 0.2") == {
        "target:capmon_probe_errors:ratio_rate15m"
    }


def test_time_and_numbers_are_not_metrics() -> None:
    assert metric_names("time() - capmon_last_run_timestamp_seconds > 3600") == {
        "capmon_last_run_timestamp_seconds"
    }


def test_documented_metrics_reads_tables_and_expands_histograms(tmp_path: Path) -> None:
    doc = tmp_path / "m.md"
    doc.write_text(
        "| name | type | unit | labels | meaning |\n|---|---|---|---|---|\n"
        "| `capmon_a_total` | counter | probes | target | a |\n"
        "| `capmon_b_seconds` | histogram | seconds | target | b |\n"
        "Some prose mentioning `capmon_not_a_row`.\n"
    )
    found = documented_metrics(doc)
    assert found["capmon_a_total"] == "counter"
    assert {
        "capmon_b_seconds",
        "capmon_b_seconds_bucket",
        "capmon_b_seconds_sum",
        "capmon_b_seconds_count",
    } <= found.keys()
    assert "capmon_not_a_row" not in found
