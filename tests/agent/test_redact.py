"""Redactor and logging filter: secrets and credential-shaped strings never survive."""

from __future__ import annotations

import logging
import time

import pytest

from agent.redact import MASK, RedactingFilter, Redactor, redacted_exception

KEY = "canary-7f3a9c1e5b2d4f60"


@pytest.mark.parametrize(
    "text",
    [
        f"calling with key {KEY} now",
        f"{KEY}",
        f"prefix{KEY}suffix",
        f"Authorization: Bearer {KEY}",
        f"headers={{'Authorization': 'Bearer {KEY}'}}",
        f"GET /v1/models?api_key={KEY}&x=1",
        f'{{"x-api-key": "{KEY}"}}',
    ],
)
def test_known_secret_is_masked_everywhere(text: str) -> None:
    out = Redactor([KEY])(text)
    assert KEY not in out
    assert MASK in out


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Authorization: Bearer abcdEFGH1234.xyz", "abcdEFGH1234"),
        ("authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("key sk-proj-ABCDEFGHIJKLMNOPQRSTUV leaked", "ABCDEFGHIJKLMNOPQRSTUV"),
        ("goog AIzaSyA1234567890abcdefghijklmnopqrstu", "AIzaSyA1234567890"),
        ("api-key: hunter2hunter2", "hunter2hunter2"),
        ("password=correcthorse", "correcthorse"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ],
)
def test_credential_shapes_are_masked_without_being_told(text: str, leak: str) -> None:
    out = Redactor()(text)
    assert leak not in out
    assert MASK in out


def test_names_are_kept_so_logs_say_what_was_masked() -> None:
    r = Redactor()
    assert r("Authorization: Bearer abcdEFGH1234") == "Authorization: Bearer ***"
    assert r("url?api_key=zzzzzzzz&b=2") == "url?api_key=***&b=2"


def test_ordinary_text_is_left_alone() -> None:
    text = "basic arithmetic, 12 tokens used, max token limit 256, The answer is 42."
    assert Redactor(["x9"])(text) == text


def test_short_secrets_masked_only_as_whole_tokens() -> None:
    r = Redactor(["abc"])
    assert r("key abc used") == f"key {MASK} used"
    assert r("the alphabet abcde") == "the alphabet abcde"


def test_longer_secret_wins_over_its_prefix() -> None:
    out = Redactor(["secret-one", "secret-one-and-more"])("v=secret-one-and-more!")
    assert out == f"v={MASK}!"


def test_empty_and_none_secrets_are_ignored() -> None:
    assert Redactor(["", None])("plain text") == "plain text"


def test_with_secrets_builds_a_new_redactor() -> None:
    r = Redactor(["oldsecret1"]).with_secrets(["newsecret1"])
    assert r("oldsecret1 newsecret1") == f"oldsecret1 {MASK}"


def test_redaction_cost_is_bounded_on_adversarial_text() -> None:
    r = Redactor([KEY])
    nasty = "api_key" + "=" * 50_000 + "Bearer " * 20_000 + "sk-" + "a" * 100_000
    start = time.perf_counter()
    r(nasty)
    assert time.perf_counter() - start < 2.0


def test_filter_redacts_message_args_and_exception(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("capmon.test.redact")
    flt = RedactingFilter(Redactor([KEY]))
    caplog.handler.addFilter(flt)
    try:
        logger.warning("request to %s with %r", "http://x", {"Authorization": f"Bearer {KEY}"})
        try:
            raise RuntimeError(f"endpoint rejected key {KEY}")
        except RuntimeError:
            logger.exception("call failed")
        logger.error("stack", stack_info=True, extra={})
    finally:
        caplog.handler.removeFilter(flt)
    assert caplog.records
    assert KEY not in caplog.text
    assert "RuntimeError" in caplog.text
    for rec in caplog.records:
        assert KEY not in rec.getMessage()
        assert KEY not in (rec.exc_text or "")


def test_redacted_exception_is_one_safe_line() -> None:
    line = redacted_exception(ValueError(f"bad key {KEY}"), Redactor([KEY]))
    assert line == f"ValueError: bad key {MASK}"


def test_secrets_only_mode_leaves_credential_shapes_alone() -> None:
    r = Redactor([KEY], patterns=False)
    text = f'{{"password": "hunter2hunter2", "token": "{KEY}"}} Bearer abcdefgh'
    assert r(text) == f'{{"password": "hunter2hunter2", "token": "{MASK}"}} Bearer abcdefgh'
    assert r.with_secrets(["hunter2hunter2"])(text).count(MASK) == 1
