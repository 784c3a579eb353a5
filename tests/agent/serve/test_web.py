"""The HTTP surface: 404 for any bad probe id, security headers everywhere, pages off when exposed
without auth, and pages that cost what they show, rendered off the event loop."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from agent.config import Settings, WebConfig
from agent.ledger.store import Store
from agent.serve import web
from agent.serve.counters import Counters
from agent.serve.exporter import build_metrics_registry
from agent.serve.status_page import REDACT_MARGIN, SNIPPET_CHARS
from tests.agent.ledger.test_store import _result

PAGES = ("/", "/probe/1")
OPEN = ("/metrics", "/healthz", "/readyz")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "w.db")
    s.add_result(_result())
    yield s
    s.close()


def _client(settings: Settings, store: Store, redact: Callable[[str], str] = str) -> TestClient:
    state = Counters()
    state.add_target("t1", "openai", "m")
    return TestClient(build_app(settings, state, store, redact))


def build_app(settings: Settings, state: Counters, store: Store, redact: Callable[[str], str]) -> Any:
    return web.build_app(settings, build_metrics_registry(state), state, store, redact)


@pytest.mark.parametrize(
    "raw", ["abc", "-1", "1.5", "99999999999999999999", str(2**63), "１", "0x10", "1e3", "%C2%B2", "0", "12345"]
)
def test_any_probe_id_that_is_not_a_stored_row_is_404(
    make_settings: Callable[..., Settings], store: Store, raw: str
) -> None:
    """`/probe/99999999999999999999` once answered 500 (OverflowError in SQLite), `abc` 400."""
    client = _client(make_settings(), store)
    response = client.get(f"/probe/{raw}")
    assert response.status_code == 404 and response.text == "no such probe\n"
    assert client.get("/probe/1").status_code == 200


def test_every_response_carries_the_security_headers(make_settings: Callable[..., Settings], store: Store) -> None:
    client = _client(make_settings(), store)
    for path in (*PAGES, *OPEN, "/probe/x", "/nowhere"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["referrer-policy"] == "no-referrer", path
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp and "script-src" not in csp, path


def test_the_csp_allows_exactly_the_pages_inline_style(make_settings: Callable[..., Settings], store: Store) -> None:
    client = _client(make_settings(), store)
    for path in PAGES:
        page = client.get(path)
        assert "<script" not in page.text and " style=" not in page.text
        [style] = re.findall(r"<style>(.*?)</style>", page.text, flags=re.S)
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"style-src 'sha256-{digest}'" in page.headers["content-security-policy"]


def test_the_401_carries_the_security_headers_too(make_settings: Callable[..., Settings], store: Store) -> None:
    hashed = SecretStr(bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode())
    settings = make_settings().model_copy(update={"web": WebConfig(basic_auth_users={"u": hashed})})
    response = _client(settings, store).get("/")
    assert response.status_code == 401 and response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("listen", ["0.0.0.0:9787", "[::]:9787", ":9787", "10.1.2.3:9787", "capmon.example:9787"])
def test_pages_are_off_on_an_exposed_address_without_auth(
    make_settings: Callable[..., Settings], store: Store, listen: str
) -> None:
    client = _client(make_settings().model_copy(update={"listen": listen}), store)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "web.allow_unauthenticated_pages" in response.text and "Answer" not in response.text
    for path in OPEN:
        assert client.get(path).status_code in (200, 503), path  # readyz: 503 until the agent is ready


@pytest.mark.parametrize("listen", ["127.0.0.1:9787", "localhost:9787", "[::1]:9787", "127.0.0.2:9787"])
def test_pages_are_served_on_loopback(make_settings: Callable[..., Settings], store: Store, listen: str) -> None:
    client = _client(make_settings().model_copy(update={"listen": listen}), store)
    assert [client.get(p).status_code for p in PAGES] == [200, 200]


def test_pages_are_served_when_exposed_with_auth_or_explicitly_allowed(
    make_settings: Callable[..., Settings], store: Store
) -> None:
    exposed = make_settings().model_copy(update={"listen": "0.0.0.0:9787"})
    allowed = exposed.model_copy(update={"web": WebConfig(allow_unauthenticated_pages=True)})
    assert [_client(allowed, store).get(p).status_code for p in PAGES] == [200, 200]
    hashed = SecretStr(bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode())
    authed = exposed.model_copy(update={"web": WebConfig(basic_auth_users={"u": hashed})})
    creds = {"Authorization": "Basic " + base64.b64encode(b"u:pw").decode()}
    assert [_client(authed, store).get(p, headers=creds).status_code for p in PAGES] == [200, 200]


def test_the_status_page_redacts_only_what_it_shows(make_settings: Callable[..., Settings], store: Store) -> None:
    """It once redacted 50 full responses (32 000 characters each) to show 80 characters of each."""
    seen: list[int] = []

    def redact(text: str) -> str:
        seen.append(len(text))
        return text.replace("SECRETKEY", "***")

    state = Counters()
    state.add_target("t1", "openai", "m")
    for i in range(50):
        # The secret starts inside the snippet and ends past it: it must still be masked.
        response = "x" * 75 + "SECRETKEY" + "y" * 32_000
        state.record(i + 1, _result(outcome="fail", score=0.0, response=response, extracted="z" * 10_000))
    page = TestClient(build_app(make_settings(), state, store, redact)).get("/")
    assert page.status_code == 200 and "SECRET" not in page.text and "x" * 75 + "***" in page.text
    bound = SNIPPET_CHARS + REDACT_MARGIN
    assert max(seen) <= bound and sum(seen) < 50 * 3 * bound


def test_pages_render_off_the_event_loop(
    make_settings: Callable[..., Settings], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    loops: list[bool] = []

    def running_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def spy(real: Callable[..., str]) -> Callable[..., str]:
        def render(*args: Any, **kwargs: Any) -> str:
            loops.append(running_loop())
            return real(*args, **kwargs)

        return render

    monkeypatch.setattr(web, "render_index", spy(web.render_index))
    monkeypatch.setattr(web, "render_probe", spy(web.render_probe))
    client = _client(make_settings(), store)
    assert [client.get(p).status_code for p in PAGES] == [200, 200]
    assert loops == [False, False]


def test_a_flood_of_status_page_requests_renders_it_once_per_interval(
    make_settings: Callable[..., Settings], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders: list[float] = []
    real = web.render_index

    def counting(*args: Any, **kwargs: Any) -> str:
        renders.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(web, "render_index", counting)
    monkeypatch.setattr(web, "INDEX_CACHE_S", 60.0)
    client = _client(make_settings(), store)
    pages = {client.get("/").text for _ in range(20)}
    assert len(renders) == 1 and len(pages) == 1
