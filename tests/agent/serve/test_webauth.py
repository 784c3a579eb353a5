"""Basic auth (bcrypt, cached) and TLS for /metrics and the pages, like Prometheus' web config."""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import socket
import ssl
import threading
import time
from pathlib import Path

import bcrypt
import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from agent.config import TLSServerConfig, WebConfig
from agent.serve.webauth import BasicAuthMiddleware, parse_basic, ssl_kwargs

PASSWORD = "s3cret-pass:with-colon"


def _hash(pw: str) -> SecretStr:
    return SecretStr(bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=4)).decode())


def _basic(user: str, pw: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


async def _metrics(request: Request) -> PlainTextResponse:
    return PlainTextResponse("capmon_build_info 1\n")


async def _health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok\n")


def make_app(users: dict[str, SecretStr]) -> tuple[Starlette, BasicAuthMiddleware]:
    inner = Starlette(routes=[Route("/metrics", _metrics), Route("/", _metrics), Route("/healthz", _health)])
    mw = BasicAuthMiddleware(inner, users)
    outer = Starlette()
    outer.mount("/", mw)
    return outer, mw


def test_no_users_means_no_auth() -> None:
    app, mw = make_app({})
    assert mw.checker is None
    assert TestClient(app).get("/metrics").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        _basic("prom", "wrong"),
        _basic("nobody", PASSWORD),
        _basic("prom", ""),
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic !!!notbase64"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"prom:\xff\xfe").decode()},
    ],
    ids=["none", "wrong-pw", "unknown-user", "empty-pw", "bearer", "bad-b64", "no-colon", "not-utf8"],
)
def test_bad_credentials_get_401_with_challenge(headers: dict[str, str]) -> None:
    app, _ = make_app({"prom": _hash(PASSWORD)})
    for path in ("/metrics", "/"):
        resp = TestClient(app).get(path, headers=headers)
        assert resp.status_code == 401
        assert resp.headers["www-authenticate"].startswith('Basic realm="capmon"')
        assert "capmon_build_info" not in resp.text


def test_good_credentials_pass_and_are_cached() -> None:
    app, mw = make_app({"prom": _hash(PASSWORD), "other": _hash("x")})
    client = TestClient(app)
    for _ in range(5):
        resp = client.get("/metrics", headers=_basic("prom", PASSWORD))
        assert resp.status_code == 200
        assert resp.text == "capmon_build_info 1\n"
    assert mw.checker is not None
    assert mw.checker.bcrypt_calls == 1


def test_failures_are_not_cached() -> None:
    app, mw = make_app({"prom": _hash(PASSWORD)})
    client = TestClient(app)
    for _ in range(3):
        assert client.get("/metrics", headers=_basic("prom", "guess")).status_code == 401
    assert mw.checker is not None
    assert mw.checker.bcrypt_calls == 3
    assert client.get("/metrics", headers=_basic("prom", PASSWORD)).status_code == 200


def test_cached_success_does_not_carry_over_to_another_password() -> None:
    app, _ = make_app({"prom": _hash(PASSWORD)})
    client = TestClient(app)
    assert client.get("/metrics", headers=_basic("prom", PASSWORD)).status_code == 200
    assert client.get("/metrics", headers=_basic("prom", PASSWORD + "x")).status_code == 401


def test_health_endpoints_stay_open_for_probes() -> None:
    app, _ = make_app({"prom": _hash(PASSWORD)})
    assert TestClient(app).get("/healthz").status_code == 200


def test_hash_with_higher_cost_is_checked() -> None:
    hashed = SecretStr(bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=6)).decode())
    app, _ = make_app({"u": hashed})
    assert TestClient(app).get("/", headers=_basic("u", "pw")).status_code == 200


def test_parse_basic() -> None:
    assert parse_basic("Basic " + base64.b64encode(b"a:b:c").decode()) == ("a", "b:c")
    assert parse_basic("basic " + base64.b64encode(b"a:").decode()) == ("a", "")
    assert parse_basic("Digest abc") is None
    assert parse_basic("Basic") is None


def test_ssl_kwargs(tmp_path: Path) -> None:
    assert ssl_kwargs(WebConfig()) == {}
    web = WebConfig(tls_server_config=TLSServerConfig(cert_file=tmp_path / "c.pem", key_file=tmp_path / "k.pem"))
    assert ssl_kwargs(web) == {
        "ssl_certfile": str(tmp_path / "c.pem"),
        "ssl_keyfile": str(tmp_path / "k.pem"),
    }


# -- real TLS server --------------------------------------------------------------------------------


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_tls_and_basic_auth_over_a_real_socket(tmp_path: Path) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    web = WebConfig(
        tls_server_config=TLSServerConfig(cert_file=cert_file, key_file=key_file),
        basic_auth_users={"prom": _hash(PASSWORD)},
    )
    app, _ = make_app(dict(web.basic_auth_users))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **ssl_kwargs(web))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        ctx = ssl.create_default_context(cafile=str(cert_file))
        with httpx.Client(verify=ctx, timeout=5) as client:
            url = f"https://127.0.0.1:{port}/metrics"
            assert client.get(url).status_code == 401
            ok = client.get(url, auth=("prom", PASSWORD))
            assert ok.status_code == 200 and "capmon_build_info" in ok.text
        # The certificate is not trusted by default, and plain HTTP is not served.
        with httpx.Client(timeout=5) as client, pytest.raises(httpx.ConnectError):
            client.get(f"https://127.0.0.1:{port}/metrics")
        with httpx.Client(timeout=5) as client, pytest.raises(httpx.HTTPError):
            r = client.get(f"http://127.0.0.1:{port}/metrics", auth=("prom", PASSWORD))
            r.raise_for_status()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_timing_does_not_tell_which_users_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every uncached check pays bcrypt once at each configured cost, known user or not.

    With hashes of different costs, an unknown user was checked against one dummy of the first
    user's cost: a known user with another cost answered measurably faster or slower.
    """
    from agent.serve import webauth

    users = {
        "cheap": SecretStr(bcrypt.hashpw(b"a", bcrypt.gensalt(rounds=4)).decode()),
        "dear": SecretStr(bcrypt.hashpw(b"b", bcrypt.gensalt(rounds=5)).decode()),
    }
    checker = webauth.CredentialChecker(users)
    costs: list[list[int]] = []
    real = webauth._bcrypt_ok

    def counting(password: bytes, hashed: bytes) -> bool:
        costs[-1].append(int(hashed[4:6]))
        return real(password, hashed)

    monkeypatch.setattr(webauth, "_bcrypt_ok", counting)
    for user, password, expected in [
        ("cheap", "a", True),
        ("dear", "b", True),
        ("cheap", "wrong", False),
        ("dear", "wrong", False),
        ("nobody", "a", False),
        ("dea", "b", False),
    ]:
        costs.append([])
        assert asyncio.run(checker.check(user, password)) is expected, user
    assert all(sorted(c) == [4, 5] for c in costs), costs


def test_user_names_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """No dict lookup or == on the name: every configured name is compared with compare_digest."""
    from agent.serve import webauth

    compared: list[tuple[bytes, bytes]] = []
    real = webauth.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    checker = webauth.CredentialChecker({u: _hash("pw") for u in ("alice", "bob", "carol")})
    monkeypatch.setattr(webauth.hmac, "compare_digest", spy)
    for user in ("alice", "carol", "mallory"):
        compared.clear()
        asyncio.run(checker.check(user, "nope"))
        assert len(compared) == 3 and all(len(a) == len(b) == 32 for a, b in compared)
