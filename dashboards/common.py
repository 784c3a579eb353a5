"""Shared pieces of capmon's dashboards: the datasource, template variables and panel helpers.

Every query names its ``ref_id`` explicitly and every panel gets its datasource from the
``$datasource`` variable, so the JSON imports into any Grafana (12+) with any Prometheus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from grafana_foundation_sdk.builders import bargauge, dashboard, heatmap, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as dashboard_models
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DATASOURCE = common_models.DataSourceRef(type_val="prometheus", uid="${datasource}")
#: Grafana's own interval for rate(): at least four scrape intervals, whatever the scrape interval is.
RATE = "$__rate_interval"
TAGS = ["capmon"]
#: Selector of the pass ratio pooled over every family (and every level) in the selected window.
ALL_LEVELS = 'family="all",window="$window"'


@dataclass(frozen=True)
class Query:
    """One PromQL query of a panel."""

    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False
    heatmap: bool = False


def q(expr: str, legend: str = "", **kwargs: bool) -> Query:
    """Shorthand for ``Query``."""
    return Query(expr, legend, **kwargs)


def _targets(queries: Sequence[Query]) -> list[cogbuilder.Builder[cogvariants.Dataquery]]:
    built: list[cogbuilder.Builder[cogvariants.Dataquery]] = []
    for i, query in enumerate(queries):
        dq = prometheus.Dataquery().ref_id(chr(ord("A") + i)).expr(query.expr).datasource(DATASOURCE)
        if query.legend:
            dq = dq.legend_format(query.legend)
        dq = dq.instant() if query.instant else dq.range()
        if query.table:
            dq = dq.format(PromQueryFormat.TABLE)
        elif query.heatmap:
            dq = dq.format(PromQueryFormat.HEATMAP)
        built.append(dq)
    return built


def _thresholds(steps: Sequence[tuple[float | None, str]]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(dashboard_models.ThresholdsMode.ABSOLUTE)
        .steps([dashboard_models.Threshold(value=v, color=c) for v, c in steps])
    )


PanelT = TypeVar("PanelT", timeseries.Panel, stat.Panel, bargauge.Panel, table.Panel, heatmap.Panel)


def _panel(panel: PanelT, title: str, description: str, queries: Sequence[Query], width: int, height: int) -> PanelT:
    """What every panel sets: title, description, datasource, queries and size."""
    return (
        panel.title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries))
        .span(width)
        .height(height)
    )


def _range(
    panel: PanelT, min_value: float | None = None, max_value: float | None = None, repeat: str | None = None
) -> PanelT:
    """Optional axis bounds and a horizontal repeat over a variable."""
    if min_value is not None:
        panel = panel.min(min_value)
    if max_value is not None:
        panel = panel.max(max_value)
    if repeat is not None:
        panel = panel.repeat(repeat).repeat_direction("h").max_per_row(4)
    return panel


def series(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str = "short",
    width: int = 12,
    height: int = 8,
    min_value: float | None = None,
    max_value: float | None = None,
    repeat: str | None = None,
) -> timeseries.Panel:
    """A time series panel."""
    panel = _panel(timeseries.Panel(), title, description, queries, width, height).unit(unit)
    panel = _range(panel.fill_opacity(5).line_width(1), min_value, max_value, repeat)
    # Bounds and thresholds are drawn dashed so the estimate itself stands out.
    dashed = dashboard_models.DynamicConfigValue(id_val="custom.lineStyle", value={"fill": "dash", "dash": [6, 4]})
    panel = panel.override_by_regexp(".* (lower|upper)$", [dashed])
    panel = panel.override_by_regexp(
        ".* threshold$",
        [dashed, dashboard_models.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": "red"})],
    )
    return panel


def single(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str = "short",
    width: int = 6,
    height: int = 4,
    steps: Sequence[tuple[float | None, str]] = ((None, "green"),),
) -> stat.Panel:
    """A stat panel with threshold colours."""
    return _panel(stat.Panel(), title, description, queries, width, height).unit(unit).thresholds(_thresholds(steps))


def bars(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str = "short",
    width: int = 12,
    height: int = 8,
    min_value: float | None = None,
    max_value: float | None = None,
    repeat: str | None = None,
) -> bargauge.Panel:
    """A bar gauge panel (latest value of each series)."""
    panel = _panel(bargauge.Panel(), title, description, queries, width, height).unit(unit)
    panel = panel.thresholds(_thresholds(((None, "red"), (0.5, "yellow"), (0.8, "green"))))
    return _range(panel, min_value, max_value, repeat)


def grid(title: str, description: str, queries: Sequence[Query], *, width: int = 24, height: int = 8) -> table.Panel:
    """A table panel of instant queries."""
    return _panel(table.Panel(), title, description, queries, width, height)


def cells(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str = "short",
    width: int = 12,
    height: int = 8,
    repeat: str | None = None,
) -> heatmap.Panel:
    """A heatmap panel over series that are already buckets (no calculation in Grafana)."""
    panel = _panel(heatmap.Panel(), title, description, queries, width, height).unit(unit).calculate(False)
    return _range(panel, repeat=repeat)


def datasource_variable() -> dashboard.DatasourceVariable:
    """The Prometheus datasource picker."""
    return dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus")


def label_variable(
    name: str, label: str, query: str, *, multi: bool = True, include_all: bool = True
) -> dashboard.QueryVariable:
    """A variable whose values are a label's values, e.g. ``label_values(capmon_target_info, target)``."""
    variable = (
        dashboard.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(dashboard_models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard_models.VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(include_all)
    )
    if include_all:
        variable = variable.all_value(".*")
    return variable


def target_variable(*, multi: bool = True) -> dashboard.QueryVariable:
    """The monitored targets."""
    return label_variable(
        "target", "Target", "label_values(capmon_target_info, target)", multi=multi, include_all=multi
    )


def family_variable() -> dashboard.QueryVariable:
    """The probe families seen for the selected targets."""
    return label_variable("family", "Probe family", 'label_values(capmon_probes_total{target=~"$target"}, family)')


def window_variable() -> dashboard.QueryVariable:
    """The statistics window (``1h``, ``24h``, ...)."""
    return label_variable("window", "Window", "label_values(capmon_pass_ratio, window)", multi=False, include_all=False)


def new_dashboard(uid: str, title: str, description: str) -> dashboard.Dashboard:
    """A dashboard with capmon's defaults: tags, refresh, a six-hour range, browser time zone."""
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(TAGS)
        .refresh("1m")
        .time("now-6h", "now")
        .timezone("browser")
        .tooltip(dashboard_models.DashboardCursorSync.CROSSHAIR)
        .editable()
    )


def change_point_annotations(selector: str) -> dashboard.AnnotationQuery:
    """Grafana annotations from increases of ``capmon_change_points_total`` (no Grafana API key: a
    Prometheus annotation query), one per new change point, titled with its scope, detector, direction."""
    return (
        dashboard.AnnotationQuery()
        .name("Change points")
        .datasource(DATASOURCE)
        .enable(True)
        .icon_color("red")
        # A series' first change point makes the series appear (no increase to see): caught by the unless.
        .expr(
            f"(increase(capmon_change_points_total{{{selector}}}[$__interval]) > 0)"
            f" or (capmon_change_points_total{{{selector}}} unless capmon_change_points_total{{{selector}}}"
            " offset $__interval)"
        )
        .step("1m")
        .title_format("{{target}}: {{family}} {{detector}} {{direction}}")
        .text_format("change point; its evidence (which signals moved) is in the report's What changed")
        .tag_keys("target,family,detector,direction")
    )


def row(title: str) -> dashboard.Row:
    """A row header."""
    return dashboard.Row(title)
