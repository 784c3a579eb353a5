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


async def test_probe_view_shows_the_whole_evidence_and_never_a_secret(tmp_path: object) -> None:
    """A real run (retry, echoed key in the answer and in a kept header) rendered with the agent's redactor."""
    import asyncio
    import html
    import json
    from pathlib import Path

    import httpx

    from agent.config import Settings, TargetConfig
    from agent.ledger.store import Store
    from agent.providers import adapter_for
    from agent.run.budget import BudgetGuard
    from agent.run.retry import CircuitBreaker
    from agent.run.runner import Member, UnitRunner
    from agent.serve.counters import Counters
    from probes.registry import builtin_registry
    from tests.agent.conftest import openai_body

    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(429, json={"error": {"message": "slow down"}})
        body = openai_body(f"I saw the key {SECRET}. Answer: 4")
        return httpx.Response(200, json=body, headers={"x-request-id": f"rid-{SECRET}", "openai-version": "2020"})

    target = TargetConfig(
        name="t1", base_url="http://model.test/v1", model="m", families=["arithmetic"],  # type: ignore[arg-type]
        probes_per_run=1, static_per_run=0, fingerprint_prompts=0, concurrency=1,
        api_key=SECRET, headers={"X-Tenant": "tenant-secret-value-42"},  # type: ignore[arg-type,dict-item]
        retry={"attempts": 2, "base_delay_s": 0.001, "max_delay_s": 0.001},  # type: ignore[arg-type]
    )
    settings = Settings(targets=[target], store=Path(str(tmp_path)) / "c.db")
    store = Store(settings.store)
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    member = Member(target, adapter_for(target, client, SECRET), CircuitBreaker(target.circuit),
                    BudgetGuard(store, target), asyncio.Semaphore(1))
    redact = Redactor([SECRET, "tenant-secret-value-42"])
    unit = UnitRunner([member], builtin_registry(), store, Counters(), store.salt(), stop=asyncio.Event(),
                      redact=redact)
    (summary,) = await unit.run_once()
    stored = store.result(summary.result_ids[0])
    assert stored is not None
    page = render_probe(stored, redact=redact)
    assert SECRET not in page and "tenant-secret-value-42" not in page
    for shown in ("Finish reason", "<td>stop</td>", "Attempts that failed", "http_429", "<td>429</td>",
                  "Response headers kept", "openai-version", "Request as sent", "[redacted]",
                  "http://model.test/v1/chat/completions", "Response (raw)", "Extracted answer"):
        assert shown in page, shown
    # The request shows the prompt where it was sent (not the placeholder) and the stream switch.
    sent = re.search(r"<h2>Request as sent</h2>\n<pre>(.*?)</pre>", page, re.S)
    assert sent is not None
    request = json.loads(html.unescape(sent.group(1)))
    assert request["body"]["messages"][-1]["content"] == stored.result.prompt
    assert request["body"]["stream"] is True and request["headers"]["X-Tenant"] == "[redacted]"
    store.close()
