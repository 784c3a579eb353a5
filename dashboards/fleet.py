"""Fleet overview: every target on one screen — capability, frontier, regressions, errors, cost."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from dashboards.common import (
    ALL_LEVELS,
    RATE,
    bars,
    change_point_annotations,
    datasource_variable,
    grid,
    new_dashboard,
    q,
    row,
    series,
    single,
    target_variable,
    window_variable,
)

T = 'target=~"$target"'


def build() -> dashboard.Dashboard:
    """The fleet overview dashboard."""
    d = new_dashboard(
        "capmon-fleet",
        "capmon / Fleet overview",
        "Every monitored model endpoint: pass ratio with anytime-valid bounds, capability frontier, "
        "regressions firing, availability errors and cost.",
    )
    d = (
        d.with_variable(datasource_variable())
        .with_variable(target_variable())
        .with_variable(window_variable())
        .annotation(change_point_annotations(T))
    )

    d = d.with_row(row("Capability"))
    d = (
        d.with_panel(
            single(
                "Regressions firing",
                "Drop detectors currently firing, summed over targets, families and detectors.",
                [q(f"sum(capmon_regression_detected{{{T}}}) or vector(0)", instant=True)],
                steps=((None, "green"), (1, "red")),
            )
        )
        .with_panel(
            single(
                "Behaviour fingerprint changed",
                "Targets whose temperature-0 canary answers no longer match the baseline: "
                "a silent model swap.",
                [q(f"sum(capmon_fingerprint_changed{{{T}}}) or vector(0)", instant=True)],
                steps=((None, "green"), (1, "orange")),
            )
        )
        .with_panel(
            single(
                "Targets up",
                "Targets whose last run reached the endpoint, out of all targets.",
                [
                    q(f"sum(capmon_target_up{{{T}}})", "up", instant=True),
                    q(f"count(capmon_target_up{{{T}}})", "all", instant=True),
                ],
            )
        )
        .with_panel(
            single(
                "Unexpected improvements",
                "Rise detectors firing: a sudden gain can also mean the model behind the endpoint changed.",
                [q(f"sum(capmon_improvement_detected{{{T}}}) or vector(0)", instant=True)],
                steps=((None, "green"), (1, "blue")),
            )
        )
    )
    d = d.with_panel(
        series(
            "Pass ratio by target (all families)",
            "Share of scored probes that passed in the selected window, with its anytime-valid confidence "
            "bounds (errors excluded). The band is honest however often you look.",
            [
                q(f"capmon_pass_ratio{{{T},{ALL_LEVELS}}}", "{{target}}"),
                q(f"capmon_pass_ratio_lower{{{T},{ALL_LEVELS}}}", "{{target}} lower"),
                q(f"capmon_pass_ratio_upper{{{T},{ALL_LEVELS}}}", "{{target}} upper"),
            ],
            unit="percentunit",
            min_value=0,
            max_value=1,
        )
    ).with_panel(
        bars(
            "Pass ratio now (lower bound)",
            "Latest pass ratio per target next to its lower bound: the bound is what you can rely on.",
            [
                q(f"capmon_pass_ratio{{{T},{ALL_LEVELS}}}", "{{target}}", instant=True),
                q(f"capmon_pass_ratio_lower{{{T},{ALL_LEVELS}}}", "{{target}} lower", instant=True),
            ],
            unit="percentunit",
            min_value=0,
            max_value=1,
        )
    )
    d = d.with_panel(
        series(
            "Capability frontier",
            "Difficulty level at which each target passes half the time, per family, with bounds.",
            [
                q(f"capmon_frontier_level{{{T}}}", "{{target}} {{family}}"),
                q(f"capmon_frontier_level_lower{{{T}}}", "{{target}} {{family}} lower"),
                q(f"capmon_frontier_level_upper{{{T}}}", "{{target}} {{family}} upper"),
            ],
            min_value=0,
        )
    ).with_panel(
        series(
            "Ability (logits)",
            "Overall ability across families (Rasch-style), with bounds.",
            [
                q(f"capmon_ability_logits{{{T}}}", "{{target}}"),
                q(f"capmon_ability_logits_lower{{{T}}}", "{{target}} lower"),
                q(f"capmon_ability_logits_upper{{{T}}}", "{{target}} upper"),
            ],
        )
    )
    d = d.with_panel(
        grid(
            "Regressions and improvements firing",
            "Every detector that has fired and not been reset, with the family it watches.",
            [
                q(f"capmon_regression_detected{{{T}}} == 1", instant=True, table=True),
                q(f"capmon_improvement_detected{{{T}}} == 1", instant=True, table=True),
            ],
            height=6,
        )
    )

    d = d.with_panel(
        series(
            "Paired comparisons",
            "Pass-ratio difference of each target minus its group's baseline target on identical items, with "
            "bounds; a band clear of zero is a real difference.",
            [
                q(
                    f"capmon_paired_difference_ratio{{{T}}}",
                    "{{group}} {{target}} - {{baseline_target}} {{family}}",
                ),
                q(f"capmon_paired_difference_ratio_lower{{{T}}}", "{{group}} {{target}} {{family}} lower"),
                q(f"capmon_paired_difference_ratio_upper{{{T}}}", "{{group}} {{target}} {{family}} upper"),
            ],
            unit="percentunit",
            width=24,
        )
    )

    d = d.with_row(row("Availability"))
    d = (
        d.with_panel(
            series(
                "Probes per second by outcome",
                "Probe rate per target and outcome; error is an availability failure, "
                "not a capability failure.",
                [
                    q(
                        f"sum by (target, outcome) (rate(capmon_probes_total{{{T}}}[{RATE}]))",
                        "{{target}} {{outcome}}",
                    )
                ],
                unit="reqps",
            )
        )
        .with_panel(
            series(
                "Errors by reason",
                "Availability errors per second by reason (timeout, connect, http_5xx, http_429, ...).",
                [
                    q(
                        f"sum by (target, reason) (rate(capmon_probe_errors_total{{{T}}}[{RATE}]))",
                        "{{target}} {{reason}}",
                    )
                ],
                unit="reqps",
            )
        )
        .with_panel(
            series(
                "Probe latency p95",
                "95th percentile of probe request time per target.",
                [
                    q(
                        f"histogram_quantile(0.95, sum by (target, le) "
                        f"(rate(capmon_probe_duration_seconds_bucket{{{T}}}[{RATE}])))",
                        "{{target}}",
                    )
                ],
                unit="s",
            )
        )
        .with_panel(
            series(
                "Time since last run",
                "Seconds since each target's last scheduled run finished and since its last usable answer; "
                "both grow without bound if the scheduler stalls or the endpoint stays down.",
                [
                    q(f"time() - capmon_last_run_timestamp_seconds{{{T}}}", "{{target}} run"),
                    q(f"time() - capmon_last_success_timestamp_seconds{{{T}}}", "{{target}} success"),
                ],
                unit="s",
            )
        )
        .with_panel(
            series(
                "Runs by status",
                "Scheduled runs per second by status (completed, abandoned, failed, skipped).",
                [
                    q(
                        f"sum by (target, status) (rate(capmon_runs_total{{{T}}}[{RATE}]))",
                        "{{target}} {{status}}",
                    )
                ],
                unit="reqps",
            )
        )
        .with_panel(
            series(
                "Circuit breaker and budgets",
                "1 while a target's circuit is open or one of its spending limits stops probing.",
                [
                    q(f"capmon_circuit_open{{{T}}}", "{{target}} circuit open"),
                    q(f"capmon_budget_exhausted{{{T}}}", "{{target}} {{budget}} exhausted"),
                ],
                min_value=0,
                max_value=1,
            )
        )
    )

    d = d.with_panel(
        grid(
            "Agents",
            "Every capmon agent Prometheus scrapes: version, Python, whether it is up and whether its "
            "last configuration reload succeeded.",
            [
                q("capmon_build_info", instant=True, table=True),
                q("capmon_config_last_reload_successful", instant=True, table=True),
                q('up{job=~".*capmon.*"}', instant=True, table=True),
            ],
            width=12,
            height=6,
        )
    )

    d = d.with_row(row("Cost"))
    d = (
        d.with_panel(
            series(
                "Cost per day (USD)",
                "Money spent on probes over the last 24 hours, per target.",
                [q(f"sum by (target) (increase(capmon_cost_usd_total{{{T}}}[24h]))", "{{target}}")],
                unit="currencyUSD",
            )
        )
        .with_panel(
            series(
                "Cost per correct answer (USD)",
                "Money spent per passed probe: what a unit of capability costs on each target.",
                [q(f"capmon_cost_per_correct_usd{{{T}}}", "{{target}}")],
                unit="currencyUSD",
            )
        )
        .with_panel(
            series(
                "Tokens per second",
                "Input and output tokens reported by the endpoints.",
                [
                    q(
                        f"sum by (target, type) (rate(capmon_tokens_total{{{T}}}[{RATE}]))",
                        "{{target}} {{type}}",
                    )
                ],
            )
        )
        .with_panel(
            grid(
                "Targets",
                "Provider, configured model, and the model id and system fingerprint "
                "the endpoint reported last.",
                [q(f"capmon_target_info{{{T}}}", instant=True, table=True)],
                width=12,
            )
        )
    )
    return d
