"""Protection for ``/metrics`` and the pages, configured like Prometheus' web config file.

``basic_auth_users`` maps user names to bcrypt hashes; ``BasicAuthMiddleware`` checks them. A
bcrypt check costs tens to hundreds of milliseconds by design, and Prometheus scrapes every few
seconds, so a verified (user, password) pair is cached under a SHA-256 digest (never the password
itself); only successes are cached, the cache is bounded, and bcrypt runs in a worker thread with
limited concurrency so failed guesses cannot stall the event loop.

Timing does not tell which user names exist: the name is compared with every configured name in
constant time (SHA-256 digests, ``hmac.compare_digest``, no early exit), and every uncached check
runs bcrypt once per distinct cost among the configured hashes, against the user's own hash at its
cost and a dummy hash at each other cost (an unknown user: dummies at every cost). Users whose
hashes differ in cost therefore cost the same as each other and as an unknown name.

``ssl_kwargs`` turns ``tls_server_config`` into uvicorn's ``ssl_certfile``/``ssl_keyfile``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

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
        self._users = [(_name_digest(u), h.get_secret_value().encode()) for u, h in users.items()]
        # One dummy per distinct cost: every check pays each cost once, whoever the user is.
        costs = sorted({h[4:6] for _, h in self._users}) or [b"10"]
        import bcrypt  # here: agents without basic auth never map its library (~0.4 MiB)

        self._dummies = {c: bcrypt.hashpw(b"capmon-dummy", bcrypt.gensalt(rounds=int(c))) for c in costs}
        self._cache: OrderedDict[bytes, None] = OrderedDict()
        self._sem = asyncio.Semaphore(BCRYPT_CONCURRENCY)
        self.bcrypt_calls = 0

    def _lookup(self, user: str) -> bytes | None:
        """The user's hash, found in time independent of which (or whether a) name matches."""
        digest, found = _name_digest(user), None
        for name, hashed in self._users:
            if hmac.compare_digest(name, digest):
                found = hashed
        return found

    async def check(self, user: str, password: str) -> bool:
        """Whether the password matches the user's bcrypt hash."""
        hashed = self._lookup(user)
        # The stored hash is part of the key, so a changed hash invalidates the cached success.
        key = hashlib.sha256(b"\0".join([user.encode(), hashed or b"", password.encode()])).digest()
        if key in self._cache:
            self._cache.move_to_end(key)
            return True
        checks = [
            (hashed if hashed is not None and hashed[4:6] == cost else dummy) for cost, dummy in self._dummies.items()
        ]
        async with self._sem:
            self.bcrypt_calls += 1
            results = await asyncio.to_thread(lambda: [_bcrypt_ok(password.encode(), h) for h in checks])
        ok = hashed is not None and any(r for r, h in zip(results, checks, strict=True) if h is hashed)
        if ok and hashed is not None:
            self._cache[key] = None
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            return True
        return False


def _name_digest(user: str) -> bytes:
    return hashlib.sha256(user.encode("utf-8", "surrogatepass")).digest()


def _bcrypt_ok(password: bytes, hashed: bytes) -> bool:
    import bcrypt  # loaded by the verifier's construction already

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
