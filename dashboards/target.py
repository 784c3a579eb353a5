"""Target detail: one endpoint per family — curves, gradient, gap, consistency, drift, latency, tokens."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from dashboards.common import (
    RATE,
    bars,
    cells,
    change_point_annotations,
    datasource_variable,
    family_variable,
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
TF = 'target=~"$target",family=~"$family"'
W = 'window="$window"'


def build() -> dashboard.Dashboard:
    """The target detail dashboard."""
    d = new_dashboard(
        "capmon-target",
        "capmon / Target detail",
        "One monitored endpoint, per probe family: pass ratio over time and by difficulty, novelty "
        "gradient, leakage gap, consistency, drift detectors against their thresholds, latency, tokens.",
    )
    d = (
        d.with_variable(datasource_variable())
        .with_variable(target_variable(multi=False))
        .with_variable(family_variable())
        .with_variable(window_variable())
        .annotation(change_point_annotations(T))
    )

    d = d.with_row(row("Summary"))
    d = (
        d.with_panel(
            single(
                "Pass ratio",
                "All families, all levels, in the selected window.",
                [
                    q(
                        f'capmon_pass_ratio{{{T},family="all",{W}}}',
                        instant=True,
                    )
                ],
                unit="percentunit",
                steps=((None, "red"), (0.5, "yellow"), (0.8, "green")),
            )
        )
        .with_panel(
            single(
                "Probes scored in window",
                "Scored probes behind the pass ratio: a ratio from a handful of probes means little.",
                [
                    q(
                        f'capmon_pass_ratio_samples{{{T},family="all",{W}}}',
                        instant=True,
                    )
                ],
            )
        )
        .with_panel(
            single(
                "Fingerprint agreement",
                "Agreement of temperature-0 canary answers with the baseline answers.",
                [q(f"capmon_fingerprint_agreement_ratio{{{T}}}", instant=True)],
                unit="percentunit",
                steps=((None, "red"), (0.5, "yellow"), (0.8, "green")),
            )
        )
        .with_panel(
            single(
                "Regressions firing",
                "Drop detectors firing for this target (any family, any detector).",
                [q(f"sum(capmon_regression_detected{{{T}}}) or vector(0)", instant=True)],
                steps=((None, "green"), (1, "red")),
            )
        )
    )

    d = d.with_row(row("Capability"))
    d = (
        d.with_panel(
            series(
                "Pass ratio by family",
                "Per family (all difficulty and novelty levels) with anytime-valid bounds.",
                [
                    q(f"capmon_pass_ratio{{{TF},{W}}}", "{{family}}"),
                    q(
                        f"capmon_pass_ratio_lower{{{TF},{W}}}",
                        "{{family}} lower",
                    ),
                    q(
                        f"capmon_pass_ratio_upper{{{TF},{W}}}",
                        "{{family}} upper",
                    ),
                ],
                unit="percentunit",
                min_value=0,
                max_value=1,
            )
        )
        .with_panel(
            bars(
                "Pass ratio by difficulty (capability curve)",
                "Pass ratio at the difficulty levels probed nearest the frontier (up to six per family) in "
                "the longest statistics window, per family: where the curve falls is the frontier.",
                [
                    q(
                        f"capmon_difficulty_passed_probes{{{TF}}} / capmon_difficulty_scored_probes{{{TF}}}",
                        "{{family}} d{{difficulty}}",
                        instant=True,
                    )
                ],
                unit="percentunit",
                min_value=0,
                max_value=1,
            )
        )
        .with_panel(
            cells(
                "Pass ratio by difficulty over time",
                "One heatmap per family; each row is a difficulty level probed near the frontier "
                "and colour is its pass ratio in the longest statistics window over time.",
                [
                    q(
                        f"capmon_difficulty_passed_probes{{{TF}}} / capmon_difficulty_scored_probes{{{TF}}}",
                        "{{difficulty}}",
                    )
                ],
                unit="percentunit",
                repeat="family",
            )
        )
        .with_panel(
            series(
                "Capability frontier",
                "Difficulty level with a 50% pass probability from the fitted logistic curve, with bounds.",
                [
                    q(f"capmon_frontier_level{{{TF}}}", "{{family}}"),
                    q(f"capmon_frontier_level_lower{{{TF}}}", "{{family}} lower"),
                    q(f"capmon_frontier_level_upper{{{TF}}}", "{{family}} upper"),
                ],
                min_value=0,
            )
        )
    )

    d = d.with_row(row("What changed"))
    sig = f'{T},signal=~"truncation|refusal"'
    d = (
        d.with_panel(
            single(
                "Signal alarms firing",
                "Signal tests in alarm: truncation, refusal, shorter, longer, latency, ttft (agent/stats/signals.py).",
                [q(f"sum(capmon_signal_alarm{{{T}}}) or vector(0)", instant=True)],
                steps=((None, "green"), (1, "red")),
            )
        )
        .with_panel(
            single(
                "Served model / header changed",
                "1 once the served model id or a header steady through the baseline took a new value (info).",
                [q(f"max(capmon_signal_info_changed{{{T}}}) or vector(0)", instant=True)],
                steps=((None, "green"), (1, "yellow")),
            )
        )
        .with_panel(
            series(
                "Truncated and refused answers",
                "Share of answered probes cut at max_tokens (finish_reason=length) and refused or filtered:"
                " recent against the baseline.",
                [q(f"capmon_signal_value{{{sig}}}", "{{signal}} {{side}}")],
                unit="percentunit",
                min_value=0,
                max_value=1,
            )
        )
        .with_panel(
            series(
                "Output length (median)",
                "Median output tokens (answer characters when the endpoint sends no usage): recent against the"
                " baseline; the sign test behind the shorter/longer alarms compares against the baseline median.",
                [q(f'capmon_signal_value{{{T},signal="output_length"}}', "{{side}}")],
                min_value=0,
            )
        )
        .with_panel(
            series(
                "Latency and time to first token (median)",
                "Median seconds over the recent answered probes against the baseline's; TTFT only for streamed"
                " targets.",
                [q(f'capmon_signal_value{{{T},signal=~"latency|ttft"}}', "{{signal}} {{side}}")],
                unit="s",
                min_value=0,
            )
        )
    )

    d = d.with_row(row("Generalization and leakage"))
    d = (
        d.with_panel(
            series(
                "Novelty gradient",
                "Pass-ratio change per novelty level; below zero the model leans on familiar phrasing.",
                [
                    q(f"capmon_novelty_gradient_slope{{{TF}}}", "{{family}}"),
                    q(f"capmon_novelty_gradient_slope_lower{{{TF}}}", "{{family}} lower"),
                    q(f"capmon_novelty_gradient_slope_upper{{{TF}}}", "{{family}} upper"),
                ],
                unit="percentunit",
            )
        )
        .with_panel(
            bars(
                "Pass ratio by novelty level",
                "Pass ratio at novelty 0 (plain) .. 3 (unfamiliar framing) in the longest statistics window, "
                "per family probed at more than one novelty level.",
                [
                    q(
                        f"capmon_novelty_passed_probes{{{TF}}} / capmon_novelty_scored_probes{{{TF}}}",
                        "{{family}} n{{novelty}}",
                        instant=True,
                    )
                ],
                unit="percentunit",
                min_value=0,
                max_value=1,
            )
        )
        .with_panel(
            series(
                "Leakage gap",
                "Static canary pass ratio minus fresh pass ratio on matched items; a growing positive gap "
                "means the static items are being learned.",
                [
                    q(f"capmon_leakage_gap_ratio{{{TF}}}", "{{family}}"),
                    q(f"capmon_leakage_gap_ratio_lower{{{TF}}}", "{{family}} lower"),
                    q(f"capmon_leakage_gap_ratio_upper{{{TF}}}", "{{family}} upper"),
                ],
                unit="percentunit",
            )
        )
        .with_panel(
            series(
                "Consistency across renderings",
                "Agreement of answers across novelty renderings of the same problem.",
                [q(f"capmon_consistency_ratio{{{TF}}}", "{{family}}")],
                unit="percentunit",
                min_value=0,
                max_value=1,
            )
        )
    )

    d = d.with_row(row("Drift detection"))
    d = (
        d.with_panel(
            series(
                "Detector statistics vs threshold",
                "Each sequential detector's statistic; it fires when it crosses "
                "its threshold (dashed series).",
                [
                    q(f'capmon_detector_statistic{{{T},family=~"$family|all"}}', "{{family}} {{detector}}"),
                    q(
                        f'capmon_detector_threshold{{{T},family=~"$family|all"}}',
                        "{{family}} {{detector}} threshold",
                    ),
                ],
            )
        )
        .with_panel(
            series(
                "Pass ratio vs baseline",
                "Pass ratio per family against the baseline the detectors compare with.",
                [
                    q(f"capmon_pass_ratio{{{TF},{W}}}", "{{family}}"),
                    q(f"capmon_baseline_pass_ratio{{{TF}}}", "{{family}} baseline"),
                ],
                unit="percentunit",
                min_value=0,
                max_value=1,
            )
        )
        .with_panel(
            series(
                "Change points",
                "Change points detected in the last hour, by detector and direction.",
                [
                    q(
                        "sum by (family, detector, direction) "
                        f"(increase(capmon_change_points_total{{{T}}}[1h]))",
                        "{{family}} {{detector}} {{direction}}",
                    )
                ],
            )
        )
        .with_panel(
            series(
                "Behaviour fingerprint",
                "Canary agreement, refusal ratio and whether the fingerprint test says the model changed.",
                [
                    q(f"capmon_fingerprint_agreement_ratio{{{T}}}", "agreement"),
                    q(f"capmon_refusal_ratio{{{T}}}", "refusals"),
                    q(f"capmon_fingerprint_changed{{{T}}}", "changed"),
                    q(f"capmon_fingerprint_id_changed{{{T}}}", "model id changed"),
                ],
                unit="percentunit",
                min_value=0,
                max_value=1,
            )
        )
        .with_panel(
            series(
                "Time to armed",
                "Per detector: warm-up outcomes still needed and whether it can fire; levels capped by prompt size.",
                [
                    q(f"capmon_detector_probes_to_armed{{{T}}}", "{{family}} {{detector}} to arm"),
                    q(f"capmon_detector_seconds_to_armed{{{T}}}", "{{family}} {{detector}} s to arm"),
                    q(f"capmon_detector_armed{{{T}}}", "{{family}} {{detector}} armed"),
                    q(f"capmon_level_capped{{{T}}}", "{{family}} capped at level"),
                ],
            )
        )
        .with_panel(
            grid(
                "Reported model",
                "Model id and system fingerprint the endpoint reported last; a change here is a model swap.",
                [q(f"capmon_target_info{{{T}}}", instant=True, table=True)],
                height=5,
            )
        )
    )

    d = d.with_row(row("Latency, tokens, errors"))
    d = (
        d.with_panel(
            series(
                "Probe latency quantiles",
                "Median, 95th and 99th percentile of the probe request time, from the histogram.",
                [
                    q(
                        f"histogram_quantile({p}, sum by (le) "
                        f"(rate(capmon_probe_duration_seconds_bucket{{{T}}}[{RATE}])))",
                        f"p{round(p * 100)}",
                    )
                    for p in (0.5, 0.95, 0.99)
                ],
                unit="s",
            )
        )
        .with_panel(
            cells(
                "Probe latency distribution",
                "Histogram buckets of probe request time over time.",
                [
                    q(
                        f"sum by (le) (increase(capmon_probe_duration_seconds_bucket{{{T}}}[{RATE}]))",
                        "{{le}}",
                        heatmap=True,
                    )
                ],
                unit="s",
            )
        )
        .with_panel(
            series(
                "Tokens per second",
                "Input and output tokens per second, and mean response length.",
                [
                    q(f"sum by (type) (rate(capmon_tokens_total{{{T}}}[{RATE}]))", "{{type}}"),
                    q(f"capmon_response_length_tokens_mean{{{T}}}", "mean response length"),
                ],
            )
        )
        .with_panel(
            series(
                "Outcomes per second by family",
                "Probe rate per family and outcome.",
                [
                    q(
                        f"sum by (family, outcome) (rate(capmon_probes_total{{{TF}}}[{RATE}]))",
                        "{{family}} {{outcome}}",
                    )
                ],
                unit="reqps",
            )
        )
        .with_panel(
            series(
                "Errors by reason",
                "Availability errors per second by reason.",
                [q(f"sum by (reason) (rate(capmon_probe_errors_total{{{T}}}[{RATE}]))", "{{reason}}")],
                unit="reqps",
            )
        )
        .with_panel(
            series(
                "Cost",
                "Money spent in the last 24 hours and per passed probe.",
                [
                    q(f"sum(increase(capmon_cost_usd_total{{{T}}}[24h]))", "last 24h"),
                    q(f"capmon_cost_per_correct_usd{{{T}}}", "per correct answer"),
                ],
                unit="currencyUSD",
            )
        )
    )
    return d
