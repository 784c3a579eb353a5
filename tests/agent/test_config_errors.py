"""Broken configs through ``capmon check-config``: one line naming file, key, problem; exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.cli import main

GOOD_TARGET = """\
  - name: local
    provider: openai
    base_url: http://127.0.0.1:8080/v1
    model: smollm2
"""
HASH = "$2b$04$nooE7EDoCqK5K6roAKczTutgIoN8mpuQel.J2pHiQ8GRb.dWVgVji"


def with_target(extra: str) -> str:
    """A config whose one target has ``extra`` lines (indented under the target)."""
    return "targets:\n" + GOOD_TARGET + "".join(f"    {line}\n" for line in extra.splitlines())


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    key: str | None  # None: the problem is the whole file
    problem: str  # a fragment of the problem text, lower case


CASES = [
    Case("unknown-top-key", with_target("") + "colour: blue\n", "colour", "unknown key"),
    Case("unknown-target-key", with_target("colour: blue"), "targets[0].colour", "unknown key"),
    Case("unknown-nested-key", with_target("retry: {tries: 3}"), "targets[0].retry.tries", "unknown key"),
    Case("wrong-type-interval", with_target("interval_s: soon"), "targets[0].interval_s", "number"),
    Case("negative-interval", with_target("interval_s: -5"), "targets[0].interval_s", "greater than 0"),
    Case("zero-timeout", with_target("timeout_s: 0"), "targets[0].timeout_s", "greater than 0"),
    Case("unknown-family", with_target("families: [arithmetic, astrology]"), "targets[0].families", "astrology"),
    Case("bad-url", "targets:\n  - {name: a, base_url: 'not a url', model: m}\n", "targets[0].base_url", "url"),
    Case(
        "ftp-url",
        "targets:\n  - {name: a, base_url: 'ftp://h/v1', model: m}\n",
        "targets[0].base_url",
        "scheme",
    ),
    Case("missing-key-file", with_target("api_key_file: /nonexistent/key"), "targets[0].api_key_file", "exist"),
    Case("duplicate-name", "targets:\n" + GOOD_TARGET + GOOD_TARGET, "targets", "twice"),
    Case("yaml-syntax", "targets:\n  - name: a\n    model: [unclosed\n", "line", "yaml syntax error"),
    Case("yaml-tab", "targets:\n\t- name: a\n", "line", "yaml syntax error"),
    Case("bad-listen", with_target("") + "listen: localhost\n", "listen", "host:port"),
    Case("listen-port-range", with_target("") + "listen: 127.0.0.1:70000\n", "listen", "1..65535"),
    Case(
        "azure-no-version",
        "targets:\n  - {name: az, provider: azure-openai, base_url: 'https://x.test', model: m}\n",
        "targets[0]",
        "api_version",
    ),
    Case("duplicate-yaml-key", with_target("provider: anthropic"), "line 6", "duplicate key 'provider'"),
    Case(
        "cost-budget-without-price",
        with_target("budget: {max_cost_per_day_usd: 5}"),
        "targets[0]",
        "price",
    ),
    # The open scale: levels run 1..probes.base.MAX_TOP (100); ranges and mixed lists are accepted.
    Case("difficulty-101", with_target("difficulties: [1, 101]"), "targets[0].difficulties", "1..100"),
    Case("difficulty-0", with_target("difficulties: [0]"), "targets[0].difficulties", "1..100"),
    Case("difficulty-empty", with_target("difficulties: []"), "targets[0].difficulties", "1..100"),
    Case("difficulty-range-past-top", with_target("difficulties: 1-200"), "targets[0].difficulties", "1..100"),
    Case("difficulty-range-backwards", with_target("difficulties: 9-5"), "targets[0].difficulties", "backwards"),
    Case("difficulty-range-dots", with_target("difficulties: '1..40'"), "targets[0].difficulties", "range like"),
    Case("difficulty-mixed-bad", with_target("difficulties: [1, '5-9', hard]"), "targets[0].difficulties", "'hard'"),
    Case("difficulty-bool", with_target("difficulties: [true]"), "targets[0].difficulties", "range like"),
    Case("max-prompt-tokens-0", with_target("max_prompt_tokens: 0"), "targets[0].max_prompt_tokens", "greater"),
    Case("novelty-5", with_target("novelties: [0, 5]"), "targets[0].novelties", "0..3"),
    Case(
        "bad-bcrypt",
        with_target("") + "web:\n  basic_auth_users: {prom: plaintext}\n",
        "web.basic_auth_users",
        "bcrypt",
    ),
    Case(
        "missing-tls-cert",
        with_target("") + "web:\n  tls_server_config: {cert_file: /nonexistent.crt, key_file: KEYFILE}\n",
        "web.tls_server_config.cert_file",
        "exist",
    ),
    Case(
        "missing-tls-key",
        with_target("") + "web:\n  tls_server_config: {cert_file: KEYFILE, key_file: /nonexistent.key}\n",
        "web.tls_server_config.key_file",
        "exist",
    ),
    Case("top-level-list", "- name: a\n- name: b\n", None, "mapping"),
    Case("top-level-scalar", "just a string\n", None, "mapping"),
    Case("targets-not-list", "targets: {name: a, base_url: 'http://h/v1', model: m}\n", "targets", "list"),
    Case("missing-base-url", "targets:\n  - {name: a, model: m}\n", "targets[0].base_url", "missing"),
    Case(
        "empty-model",
        with_target("model: ''").replace("    model: smollm2\n", "", 1),
        "targets[0].model",
        "1 character",
    ),
    Case(
        "bad-target-name",
        "targets:\n  - {name: 'bad name!', base_url: 'http://h/v1', model: m}\n",
        "targets[0].name",
        "pattern",
    ),
    Case(
        "unknown-provider",
        with_target("provider: carrier-pigeon").replace("    provider: openai\n", "", 1),
        "targets[0].provider",
        "openai",
    ),
    Case(
        "two-key-sources",
        with_target("api_key: abc\napi_key_env: CAPMON_TEST_KEY"),
        "targets[0]",
        "at most one",
    ),
    Case(
        "key-env-unset",
        with_target("api_key_env: CAPMON_TEST_UNSET_KEY_VAR"),
        "targets.local.api_key_env",
        "not set",
    ),
    Case("temperature-3", with_target("temperature: 3"), "targets[0].temperature", "less than or equal to 2"),
    Case("max-tokens-0", with_target("max_tokens: 0"), "targets[0].max_tokens", "greater than or equal to 1"),
    Case(
        "retry-attempts-0",
        with_target("retry: {attempts: 0}"),
        "targets[0].retry.attempts",
        "greater than or equal to 1",
    ),
    Case(
        "circuit-threshold-0",
        with_target("circuit: {failure_threshold: 0}"),
        "targets[0].circuit.failure_threshold",
        "greater",
    ),
    Case(
        "budget-negative",
        with_target("budget: {max_probes_per_hour: -1}"),
        "targets[0].budget.max_probes_per_hour",
        "greater",
    ),
    Case(
        "price-negative",
        with_target("price: {input_per_mtok_usd: -2}"),
        "targets[0].price.input_per_mtok_usd",
        "greater",
    ),
    Case("concurrency-0", with_target("concurrency: 0"), "targets[0].concurrency", "greater"),
    Case("log-level", with_target("") + "log_level: verbose\n", "log_level", "debug"),
    Case("confidence-1.5", with_target("") + "stats: {confidence: 1.5}\n", "stats.confidence", "less than 1"),
    Case("shard-index", with_target("") + "shard: {count: 2, index: 2}\n", "shard", "below count"),
    Case(
        "missing-template",
        with_target("") + "probe_templates: [/nonexistent/t.yaml]\n",
        "probe_templates[0]",
        "exist",
    ),
    Case("header-not-string", with_target("headers: {X-Org: [1, 2]}"), "targets[0].headers.X-Org", "string"),
]


@pytest.fixture
def write_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Case], Path]:
    for name in list(os.environ):
        if name.startswith("CAPMON_"):
            monkeypatch.delenv(name)
    keyfile = tmp_path / "present.pem"
    keyfile.write_text("x")

    def write(case: Case) -> Path:
        path = tmp_path / f"{case.id}.yaml"
        path.write_text(case.text.replace("KEYFILE", str(keyfile)))
        return path

    return write


def check_line(stderr: str, path: Path, case: Case) -> None:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got: {stderr!r}"
    line = lines[0]
    assert str(path) in line
    if case.key is not None:
        assert f": {case.key}" in line, f"key {case.key!r} not named in {line!r}"
    assert case.problem in line.lower(), f"problem {case.problem!r} not in {line!r}"


def test_there_are_at_least_25_distinct_cases() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 25


def test_the_good_config_passes(write_case: Callable[[Case], Path], capsys: pytest.CaptureFixture[str]) -> None:
    path = write_case(Case("good", with_target(""), None, ""))
    assert main(["check-config", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_broken_config(case: Case, write_case: Callable[[Case], Path], capsys: pytest.CaptureFixture[str]) -> None:
    path = write_case(case)
    assert main(["check-config", str(path)]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    check_line(out.err, path, case)


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "absent.yaml"
    assert main(["check-config", str(path)]) == 2
    check_line(capsys.readouterr().err, path, Case("absent", "", None, "not found"))


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.id in ("yaml-syntax", "unknown-family", "bad-bcrypt")], ids=lambda c: c.id
)
def test_real_cli_process(case: Case, write_case: Callable[[Case], Path]) -> None:
    """The installed entry point behaves the same as a separate process (exit status 2, one line)."""
    path = write_case(case)
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("CAPMON_")},
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    check_line(proc.stderr, path, case)
