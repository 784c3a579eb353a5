"""The status page at ``/`` and the debug view of one probe at ``/probe/{id}``, as pure HTML renderers.

What blackbox_exporter's landing page is to it: the targets with their last run and counts, the
recent failures (a bounded history, so failures stay visible after successes roll in) and, per
probe, everything needed to see why it failed. Every piece of text is redacted first (when a redact
function is given) and HTML-escaped second, so neither a secret nor markup from a model response
or a target name reaches the page.

The page costs what it shows: the failures table redacts only the start of each response it
displays (``SNIPPET_CHARS`` plus ``REDACT_MARGIN`` characters, so a secret that starts inside the
snippet is still whole when the redactor sees it), never the 32 000-character responses it does
not display. The one inline ``<style>`` is allowed by its hash (``STYLE_CSP_SOURCE``); the pages
carry no script.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agent.ledger.store import StoredResult
from agent.providers.base import PROMPT_MARK

Redact = Callable[[str], str]
#: Failures listed on the index page at most (the agent's history may keep more).
DEFAULT_FAILURE_LIMIT = 50
#: Characters of a response shown in the failures table before it is cut.
SNIPPET_CHARS = 80
#: Characters past the snippet that are redacted with it: longer than any API key, so a secret that
#: starts inside the snippet is masked before the cut.
REDACT_MARGIN = 512

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
pre{background:#f7f7f7;border:1px solid #ddd;padding:.5em;white-space:pre-wrap;max-width:100em}
.pass{color:#176f2c}.fail{color:#a15c00}.error{color:#b00020}
.muted{color:#777}
"""
#: The CSP source that allows exactly the inline style above (and no other inline style or script).
STYLE_CSP_SOURCE = "'sha256-" + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode() + "'"


@dataclass(frozen=True)
class TargetStatus:
    """One target's line on the status page."""

    name: str
    provider: str
    model: str
    last_run_ts: float | None
    passed: int
    failed: int
    errors: int
    up: bool | None = None
    circuit_open: bool = False


def _identity(text: str) -> str:
    return text


def _text(value: object, redact: Redact) -> str:
    """Redact, then escape: escaping first could hide a secret from the redactor (``&`` in a key)."""
    if value is None:
        return '<span class="muted">—</span>'
    return html.escape(redact(str(value)), quote=True)


def _snippet(value: str | None, redact: Redact) -> str:
    """The start of ``value``, redacted with a margin, then cut, then escaped (cost independent of its length)."""
    if value is None:
        return _text(None, redact)
    return html.escape(redact(value[: SNIPPET_CHARS + REDACT_MARGIN])[:SNIPPET_CHARS], quote=True)


def format_ts(ts: float | None, now: float | None = None) -> str:
    """A Unix time as UTC ``YYYY-MM-DD HH:MM:SSZ``, with ``(Ns ago)`` when ``now`` is given."""
    if ts is None:
        return "never"
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts))
    if now is None:
        return stamp
    return f"{stamp} ({max(0.0, now - ts):.0f}s ago)"


def _page(title: str, body: str, redact: Redact) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_text(title, redact)}</title><style>{_STYLE}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


def _ratio(passed: int, failed: int) -> str:
    scored = passed + failed
    return f"{passed / scored:.1%}" if scored else "—"


def render_index(
    targets: Sequence[TargetStatus],
    recent_failures: Sequence[StoredResult],
    version: str,
    *,
    now: float | None = None,
    redact: Redact | None = None,
    limit: int = DEFAULT_FAILURE_LIMIT,
) -> str:
    """The status page: targets, then the most recent failures (newest first, at most ``limit``)."""
    r = redact or _identity
    rows = []
    for t in targets:
        state = "unknown" if t.up is None else ("up" if t.up else "down")
        if t.circuit_open:
            state += ", circuit open"
        rows.append(
            "<tr>"
            f"<td>{_text(t.name, r)}</td><td>{_text(t.provider, r)}</td><td>{_text(t.model, r)}</td>"
            f"<td>{_text(state, r)}</td><td>{_text(format_ts(t.last_run_ts, now), r)}</td>"
            f'<td class="pass">{t.passed}</td><td class="fail">{t.failed}</td>'
            f'<td class="error">{t.errors}</td><td>{_ratio(t.passed, t.failed)}</td>'
            "</tr>"
        )
    target_table = (
        "<table><tr><th>Target</th><th>Provider</th><th>Model</th><th>State</th><th>Last run</th>"
        "<th>Pass</th><th>Fail</th><th>Error</th><th>Pass ratio (scored)</th></tr>\n"
        + "\n".join(rows)
        + "</table>"
        if rows
        else "<p>No targets configured.</p>"
    )
    failure_rows = []
    for stored in list(recent_failures)[: max(0, limit)]:
        res = stored.result
        detail = res.error_reason if res.outcome == "error" else res.extracted
        # Cut after redacting: a secret cut in half would no longer match the redactor.
        snippet = _snippet(res.response or "", r)
        failure_rows.append(
            "<tr>"
            f'<td><a href="/probe/{int(stored.id)}">{int(stored.id)}</a></td>'
            f"<td>{_text(format_ts(res.ts), r)}</td><td>{_text(res.target, r)}</td>"
            f"<td>{_text(res.family, r)}</td><td>{res.difficulty}</td><td>{res.novelty}</td>"
            f'<td class="{_text(res.outcome, r)}">{_text(res.outcome, r)}</td>'
            f"<td>{_snippet(detail, r)}</td><td>{_snippet(res.reference, r)}</td><td>{snippet}</td>"
            "</tr>"
        )
    failures = (
        "<table><tr><th>Probe</th><th>Time</th><th>Target</th><th>Family</th><th>Difficulty</th>"
        "<th>Novelty</th><th>Outcome</th><th>Extracted / reason</th><th>Reference</th>"
        "<th>Response</th></tr>\n"
        + "\n".join(failure_rows)
        + "</table>"
        if failure_rows
        else "<p>No recent failures.</p>"
    )
    body = (
        f'<h1>capmon</h1><p class="muted">version {_text(version, r)} · '
        '<a href="/metrics">metrics</a> · <a href="/healthz">healthz</a> · <a href="/readyz">readyz</a></p>\n'
        "<p>Probes run on capmon's own schedule; these are the latest results, "
        "not probes made for this page.</p>\n"
        f"<h2>Targets</h2>\n{target_table}\n"
        f'<h2>Recent failures</h2>\n<p class="muted">Failed and errored probes, newest first '
        f"(at most {int(limit)}).</p>\n{failures}"
    )
    return _page("capmon", body, r)


def render_probe(stored: StoredResult, *, redact: Redact | None = None) -> str:
    """The debug view of one probe: what was asked and sent (request, secrets redacted), every attempt
    with its error and timing, the headers kept, the raw and extracted answer, the verdict, the finish
    reason, time to first token and tokens."""
    r = redact or _identity
    res = stored.result
    tokens = (
        "—"
        if res.input_tokens is None and res.output_tokens is None
        else f"{res.input_tokens if res.input_tokens is not None else '?'} in / "
        f"{res.output_tokens if res.output_tokens is not None else '?'} out"
    )
    facts: list[tuple[str, object]] = [
        ("Target", res.target),
        ("Provider", res.provider),
        ("Model (configured)", res.model),
        ("Model (reported)", res.response_model),
        ("System fingerprint", res.system_fingerprint),
        ("Time", format_ts(res.ts)),
        ("Run", res.run_id),
        ("Family", res.family),
        ("Difficulty", res.difficulty),
        ("Novelty", res.novelty),
        ("Kind", "static canary" if res.static else ("fingerprint canary" if res.canary else "fresh")),
        ("Generator version", res.generator_version),
        ("Item", f"index {res.item_index}, seed {res.seed}"),
        ("Outcome", res.outcome),
        ("Score", None if res.score is None else f"{res.score:g}"),
        ("Extracted answer", res.extracted),
        ("Canonical answer", res.canonical),
        ("Reference answer", res.reference),
        ("Error reason", res.error_reason),
        ("Finish reason", res.finish_reason),
        ("HTTP status", res.http_status),
        ("Attempts", res.attempts),
        ("Latency", f"{res.latency_s:.3f} s"),
        ("Time to first token", None if res.ttft_s is None else f"{res.ttft_s:.3f} s"),
        ("Tokens", tokens),
        ("Temperature", res.temperature),
        ("Cost", None if res.cost_usd is None else f"${res.cost_usd:.6f}"),
        ("Request id", res.request_id),
    ]
    table = "\n".join(f"<tr><th>{_text(k, r)}</th><td>{_text(v, r)}</td></tr>" for k, v in facts)
    body = (
        f'<p><a href="/">&larr; status</a></p><h1>Probe {int(stored.id)}</h1>\n'
        f"<table>\n{table}\n</table>\n"
        f"<h2>Prompt</h2>\n<pre>{_text(res.prompt, r)}</pre>\n"
        f"<h2>Response (raw)</h2>\n<pre>{_text(res.response, r)}</pre>\n"
        f"{_attempts(res.attempt_log, res.attempts, r)}"
        f"{_headers(res.headers, r)}"
        f"<h2>Request as sent</h2>\n<pre>{_text(_request(res.request, res.prompt), r)}</pre>"
    )
    return _page(f"capmon probe {int(stored.id)}", body, r)


def _decoded(raw: str | None) -> Any:
    try:
        return None if raw is None else json.loads(raw)
    except ValueError:
        return None


def _attempts(log: str | None, attempts: int | None, r: Redact) -> str:
    """The failed attempts (reason, status, time, wait before the next), then how the last one ended."""
    failed = _decoded(log)
    rows = []
    for n, a in enumerate(failed if isinstance(failed, list) else [], 1):
        if not isinstance(a, dict):
            continue
        seconds, wait = a.get("seconds"), a.get("wait_s")
        cells = (
            n,
            a.get("reason"),
            a.get("status"),
            f"{seconds:.3f} s" if isinstance(seconds, int | float) else None,
            f"{wait:.3f} s" if isinstance(wait, int | float) else None,
        )
        rows.append("<tr>" + "".join(f"<td>{_text(c, r)}</td>" for c in cells) + "</tr>")
    if not rows:
        shown = f"{attempts}, none failed" if attempts is not None else "not recorded (a probe from before ledger 4)"
        return f'<h2>Attempts</h2>\n<p class="muted">{_text(shown, r)}</p>\n'
    head = "<tr><th>attempt</th><th>error</th><th>HTTP status</th><th>took</th><th>wait after</th></tr>"
    return f"<h2>Attempts that failed</h2>\n<table>\n{head}\n" + "\n".join(rows) + "\n</table>\n"


def _headers(raw: str | None, r: Redact) -> str:
    """The attribution headers kept from the answer (a fixed allow-list, values capped)."""
    kept = _decoded(raw)
    if not isinstance(kept, dict) or not kept:
        return '<h2>Response headers kept</h2>\n<p class="muted">none</p>\n'
    rows = "\n".join(f"<tr><th>{_text(k, r)}</th><td>{_text(v, r)}</td></tr>" for k, v in sorted(kept.items()))
    return f"<h2>Response headers kept</h2>\n<table>\n{rows}\n</table>\n"


def _request(raw: str | None, prompt: str) -> str | None:
    """The stored request record, indented, with the prompt put back where it was sent."""
    record = _decoded(raw)
    if record is None:
        return None
    return json.dumps(_unmark(record, prompt), indent=2, ensure_ascii=False)


def _unmark(value: Any, prompt: str) -> Any:
    if value == PROMPT_MARK:
        return prompt
    if isinstance(value, dict):
        return {k: _unmark(v, prompt) for k, v in value.items()}
    if isinstance(value, list):
        return [_unmark(v, prompt) for v in value]
    return value
