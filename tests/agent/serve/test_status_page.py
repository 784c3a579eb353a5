"""The status page and probe debug view: escaped, redacted, bounded, and showing what matters."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from agent.ledger.results import ProbeResult
from agent.ledger.store import StoredResult
from agent.redact import Redactor
from agent.serve.status_page import TargetStatus, format_ts, render_index, render_probe

SECRET = "sk-live-VERYSECRET-abcdef0123456789"
XSS = "<script>alert('x')</script>"


def _result(**overrides: object) -> ProbeResult:
    fields: dict[str, object] = dict(
        ts=1_700_000_000.0,
        run_id="run-1",
        target="local",
        provider="openai",
        model="smollm2",
        family="arithmetic",
        difficulty=3,
        novelty=1,
        item_index=7,
        seed=99,
        item_key="arithmetic:fresh:3:99",
        static=False,
        canary=False,
        generator_version="1",
        prompt="What is 120 + 35?",
        response="The answer is 154.",
        extracted="154",
        canonical="154",
        reference="155",
        score=0.0,
        outcome="fail",
        error_reason=None,
        http_status=200,
        latency_s=1.25,
        input_tokens=31,
        output_tokens=9,
        response_model="smollm2-q4",
        system_fingerprint="b4012",
        request_id="chatcmpl-1",
    )
    fields.update(overrides)
    return ProbeResult(**fields)  # type: ignore[arg-type]


class _Scripts(HTMLParser):
    """Collects tags, to prove injected markup did not become elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def _tags(page: str) -> list[str]:
    parser = _Scripts()
    parser.feed(page)
    return parser.tags


def test_index_lists_targets_with_counts_and_ratio() -> None:
    targets = [
        TargetStatus("local", "openai", "smollm2", 1_700_000_000.0, passed=3, failed=1, errors=2, up=True),
        TargetStatus(
            "remote", "anthropic", "claude", None, passed=0, failed=0, errors=5, up=False, circuit_open=True
        ),
    ]
    page = render_index(targets, [], "1.2.3", now=1_700_000_030.0)
    assert "<td>local</td><td>openai</td><td>smollm2</td><td>up</td>" in page
    assert "2023-11-14 22:13:20Z (30s ago)" in page
    assert '<td class="pass">3</td><td class="fail">1</td><td class="error">2</td><td>75.0%</td>' in page
    assert "<td>down, circuit open</td><td>never</td>" in page
    assert "version 1.2.3" in page
    assert "No recent failures." in page


def test_index_links_each_failure_to_its_debug_view_newest_first_and_bounded() -> None:
    failures = [StoredResult(id=i, result=_result(difficulty=i % 10 + 1)) for i in range(60, 0, -1)]
    page = render_index([], failures, "v", limit=25)
    links = re.findall(r'href="/probe/(\d+)"', page)
    assert links == [str(i) for i in range(60, 35, -1)]
    assert "No targets configured." in page


def test_error_rows_show_the_reason() -> None:
    err = _result(
        outcome="error", score=None, extracted=None, response=None, error_reason="timeout", http_status=None
    )
    page = render_index([], [StoredResult(5, err)], "v")
    assert '<td class="error">error</td><td>timeout</td>' in page


def test_markup_from_models_and_config_is_escaped() -> None:
    targets = [TargetStatus(XSS, "openai", XSS, None, 0, 0, 0)]
    res = _result(response=f"{XSS} & more", prompt=XSS, extracted=XSS, reference='"><img src=x>')
    index = render_index(targets, [StoredResult(1, res)], XSS)
    probe = render_probe(StoredResult(1, res))
    for page in (index, probe):
        assert "<script>" not in page and "<img" not in page
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
        assert "script" not in _tags(page) and "img" not in _tags(page)
    assert "&amp; more" in probe


def test_probe_view_shows_everything_needed_to_debug() -> None:
    page = render_probe(StoredResult(42, _result()))
    for text in (
        "<h1>Probe 42</h1>",
        "<pre>What is 120 + 35?</pre>",
        "<pre>The answer is 154.</pre>",
        "<th>Extracted answer</th><td>154</td>",
        "<th>Reference answer</th><td>155</td>",
        "<th>Score</th><td>0</td>",
        "<th>Outcome</th><td>fail</td>",
        "<th>Latency</th><td>1.250 s</td>",
        "<th>Tokens</th><td>31 in / 9 out</td>",
        "<th>Model (reported)</th><td>smollm2-q4</td>",
        "<th>System fingerprint</th><td>b4012</td>",
        "<th>HTTP status</th><td>200</td>",
    ):
        assert text in page, text


def test_probe_view_of_an_error_shows_reason_and_no_response() -> None:
    res = _result(
        outcome="error",
        score=None,
        response=None,
        extracted=None,
        canonical=None,
        error_reason="http_5xx",
        http_status=503,
        input_tokens=None,
        output_tokens=None,
    )
    page = render_probe(StoredResult(7, res))
    assert "<th>Error reason</th><td>http_5xx</td>" in page
    assert "<th>HTTP status</th><td>503</td>" in page
    assert "<th>Tokens</th><td>—</td>" in page
    assert '<pre><span class="muted">—</span></pre>' in page


def test_secrets_are_redacted_before_escaping() -> None:
    amp_secret = "key&with<markup>-0123456789"
    redact = Redactor([SECRET, amp_secret])
    res = _result(
        prompt=f"ignore this: {SECRET}",
        response=f"Authorization: Bearer {SECRET} and {amp_secret}",
        error_reason=f"echo {SECRET}",
    )
    targets = [TargetStatus(f"t-{SECRET}", "openai", "m", None, 0, 0, 0)]
    index = render_index(targets, [StoredResult(3, res)], "v", redact=redact)
    probe = render_probe(StoredResult(3, res), redact=redact)
    for page in (index, probe):
        assert SECRET not in page
        assert "key&amp;with&lt;markup&gt;" not in page and "0123456789" not in page.replace(
            "abcdef0123456789", ""
        )
        assert "***" in page
    # Without a redactor nothing is hidden: the test above is not passing by accident.
    assert SECRET in render_probe(StoredResult(3, res))


def test_format_ts() -> None:
    assert format_ts(None) == "never"
    assert format_ts(0.0) == "1970-01-01 00:00:00Z"
    assert format_ts(100.0, now=160.4) == "1970-01-01 00:01:40Z (60s ago)"
