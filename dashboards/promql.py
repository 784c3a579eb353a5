"""Small pure helpers to read metric names out of PromQL and out of docs/metrics.md.

Not a PromQL parser: enough to list the series names an expression selects, so tests can check that
dashboards and rules use only documented metrics. The real Prometheus checks validity in the
integration tests.
"""

from __future__ import annotations

import re
from pathlib import Path

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w:.$])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:])")
_KEYWORDS = frozenset(
    {
        "and",
        "or",
        "unless",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "offset",
        "bool",
        "inf",
        "nan",
        "atan2",
        "start",
        "end",
    }
)
_ROW = re.compile(r"^\|\s*`([A-Za-z_:][A-Za-z0-9_:]*)`\s*\|\s*([a-z]+)\s*\|")
#: Series a Prometheus histogram named X exposes.
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def metric_names(expr: str) -> set[str]:
    """The series names an expression selects (functions, keywords and label names left out)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGES.sub("", text)
    text = _GROUPING.sub(" ", text)
    names: set[str] = set()
    for m in _IDENT.finditer(text):
        name = m.group(1)
        rest = text[m.end() :].lstrip()
        if rest.startswith("("):  # a function call, e.g. rate(...)
            continue
        if name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names


def documented_metrics(path: str | Path) -> dict[str, str]:
    """Metric name -> type from the tables in docs/metrics.md (histograms add their series)."""
    found: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        m = _ROW.match(line.strip())
        if m is None:
            continue
        name, kind = m.group(1), m.group(2)
        found[name] = kind
        if kind == "histogram":
            for suffix in HISTOGRAM_SUFFIXES:
                found[name + suffix] = "counter"
    return found
