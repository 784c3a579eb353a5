"""Probe families: each family across all targets, side by side (one repeated panel per family)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from dashboards.common import (
    bars,
    datasource_variable,
    family_variable,
    grid,
    new_dashboard,
    q,
    row,
    series,
    target_variable,
    window_variable,
)

TF = 'target=~"$target",family=~"$family"'
W = 'window="$window"'


def build() -> dashboard.Dashboard:
    """The probe families dashboard."""
    d = new_dashboard(
        "capmon-families",
        "capmon / Probe families",
        "Each probe family across targets, side by side: pass ratio, frontier, novelty gradient, leakage "
        "gap and consistency. Panels repeat once per selected family.",
    )
    d = (
        d.with_variable(datasource_variable())
        .with_variable(target_variable())
        .with_variable(family_variable())
        .with_variable(window_variable())
    )

    d = d.with_row(row("Pass ratio"))
    d = d.with_panel(
        series(
            "Pass ratio: $family",
            "Pass ratio of this family on every target, with anytime-valid bounds.",
            [
                q(f"capmon_pass_ratio{{{TF},{W}}}", "{{target}}"),
                q(f"capmon_pass_ratio_lower{{{TF},{W}}}", "{{target}} lower"),
                q(f"capmon_pass_ratio_upper{{{TF},{W}}}", "{{target}} upper"),
            ],
            unit="percentunit",
            width=6,
            min_value=0,
            max_value=1,
            repeat="family",
        )
    )
    d = d.with_row(row("Capability curve"))
    d = d.with_panel(
        bars(
            "Pass ratio by difficulty: $family",
            "Pass ratio at the difficulty levels probed nearest the frontier in the longest statistics window, "
            "per target: the capability curve side by side.",
            [
                q(
                    f"capmon_difficulty_passed_probes{{{TF}}} / capmon_difficulty_scored_probes{{{TF}}}",
                    "{{target}} d{{difficulty}}",
                    instant=True,
                )
            ],
            unit="percentunit",
            width=6,
            min_value=0,
            max_value=1,
            repeat="family",
        )
    )
    d = d.with_row(row("Frontier"))
    d = d.with_panel(
        series(
            "Frontier: $family",
            "Difficulty level at which each target passes this family half the time, with bounds.",
            [
                q(f"capmon_frontier_level{{{TF}}}", "{{target}}"),
                q(f"capmon_frontier_level_lower{{{TF}}}", "{{target}} lower"),
                q(f"capmon_frontier_level_upper{{{TF}}}", "{{target}} upper"),
            ],
            width=6,
            min_value=0,
            repeat="family",
        )
    )
    d = d.with_row(row("Generalization, leakage, consistency"))
    d = (
        d.with_panel(
            series(
                "Novelty gradient by family",
                "Pass-ratio change per novelty level for each family and target.",
                [q(f"capmon_novelty_gradient_slope{{{TF}}}", "{{family}} {{target}}")],
                unit="percentunit",
                width=8,
            )
        )
        .with_panel(
            series(
                "Leakage gap by family",
                "Static minus fresh pass ratio for each family and target.",
                [q(f"capmon_leakage_gap_ratio{{{TF}}}", "{{family}} {{target}}")],
                unit="percentunit",
                width=8,
            )
        )
        .with_panel(
            series(
                "Consistency by family",
                "Answer agreement across novelty renderings for each family and target.",
                [q(f"capmon_consistency_ratio{{{TF}}}", "{{family}} {{target}}")],
                unit="percentunit",
                width=8,
                min_value=0,
                max_value=1,
            )
        )
    )
    d = d.with_row(row("Table"))
    d = d.with_panel(
        grid(
            "Frontier by family and target",
            "Latest frontier level for every (family, target) pair.",
            [q(f"capmon_frontier_level{{{TF}}}", instant=True, table=True)],
        )
    ).with_panel(
        series(
            "Probe volume by family",
            "Probes per second per family and target (all outcomes).",
            [
                q(
                    f"sum by (family, target) (rate(capmon_probes_total{{{TF}}}[$__rate_interval]))",
                    "{{family}} {{target}}",
                )
            ],
            unit="reqps",
        )
    )
    return d
