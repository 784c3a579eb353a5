"""Protection for ``/metrics`` and the pages, configured like Prometheus' web config file.

``basic_auth_users`` maps user names to bcrypt hashes; ``BasicAuthMiddleware`` checks them. A
bcrypt check costs tens to hundreds of milliseconds by design, and Prometheus scrapes every few
seconds, so a verified (user, password) pair is cached under a SHA-256 digest (never the password
itself); only successes are cached, the cache is bounded, and bcrypt runs in a worker thread with
limited concurrency so failed guesses cannot stall the event loop. An unknown user is checked
against a dummy hash so the answer takes as long as for a known one.

``ssl_kwargs`` turns ``tls_server_config`` into uvicorn's ``ssl_certfile``/``ssl_keyfile``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import bcrypt
from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.config import WebConfig

#: Liveness and readiness probes (kubelet, load balancers) carry no credentials.
DEFAULT_EXEMPT = ("/healthz", "/readyz")
CACHE_SIZE = 256
#: Parallel bcrypt checks; more guesses queue instead of taking every core.
BCRYPT_CONCURRENCY = 2


def ssl_kwargs(web: WebConfig) -> dict[str, str]:
    """uvicorn keyword arguments for TLS, empty when ``tls_server_config`` is not set."""
    tls = web.tls_server_config
    if tls is None:
        return {}
    return {"ssl_certfile": str(tls.cert_file), "ssl_keyfile": str(tls.key_file)}


def parse_basic(header: str) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic`` value, or None if it is not one."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class CredentialChecker:
    """bcrypt verification with a bounded cache of verified credentials."""

    def __init__(self, users: Mapping[str, SecretStr]) -> None:
        self._hashes = {u: h.get_secret_value().encode() for u, h in users.items()}
        # Same cost factor as the real hashes, so an unknown user costs as much time as a known one.
        cost = next(iter(self._hashes.values()), b"$2b$10$")[4:6].decode()
        self._dummy = bcrypt.hashpw(b"capmon-dummy", bcrypt.gensalt(rounds=int(cost)))
        self._cache: OrderedDict[bytes, None] = OrderedDict()
        self._sem = asyncio.Semaphore(BCRYPT_CONCURRENCY)
        self.bcrypt_calls = 0

    def _digest(self, user: str, password: str) -> bytes:
        # The stored hash is part of the key, so a changed hash invalidates the cached success.
        hashed = self._hashes.get(user, b"")
        return hashlib.sha256(b"\0".join([user.encode(), hashed, password.encode()])).digest()

    async def check(self, user: str, password: str) -> bool:
        """Whether the password matches the user's bcrypt hash."""
        key = self._digest(user, password)
        if key in self._cache:
            self._cache.move_to_end(key)
            return True
        hashed = self._hashes.get(user)
        async with self._sem:
            self.bcrypt_calls += 1
            ok = await asyncio.to_thread(_bcrypt_ok, password.encode(), hashed or self._dummy)
        if ok and hashed is not None:
            self._cache[key] = None
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            return True
        return False


def _bcrypt_ok(password: bytes, hashed: bytes) -> bool:
    try:
        return bool(bcrypt.checkpw(password, hashed))
    except ValueError:
        return False


class BasicAuthMiddleware:
    """ASGI middleware: HTTP requests need valid basic-auth credentials when users are configured."""

    def __init__(self, app: ASGIApp, users: Mapping[str, SecretStr], exempt: Iterable[str] = DEFAULT_EXEMPT) -> None:
        self.app = app
        self._checker = CredentialChecker(users) if users else None
        self._exempt = frozenset(exempt)

    @property
    def checker(self) -> CredentialChecker | None:
        """The credential checker (None when auth is off)."""
        return self._checker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on if authorised, else answer 401."""
        if self._checker is None or scope["type"] != "http" or scope.get("path") in self._exempt:
            await self.app(scope, receive, send)
            return
        creds = None
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                creds = parse_basic(value.decode("latin-1"))
                break
        if creds is not None and await self._checker.check(*creds):
            await self.app(scope, receive, send)
            return
        await _unauthorized(send)


async def _unauthorized(send: Send) -> None:
    body = b"Unauthorized\n"
    headers: list[tuple[bytes, bytes]] = [
        (b"www-authenticate", b'Basic realm="capmon", charset="UTF-8"'),
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    start: dict[str, Any] = {"type": "http.response.start", "status": 401, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
