"""Scrub secrets from text before it reaches logs, pages, exceptions or reports.

``Redactor`` replaces every known secret (API keys, secret header values, basic-auth hashes) and
anything shaped like a credential (``Bearer <token>``, ``Authorization:`` values, ``api_key=...``,
``sk-...`` keys) with ``***``. ``RedactingFilter`` applies it to log records, including the
formatted exception text, so a traceback that quotes a request cannot leak a key either.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "***"
#: Secrets shorter than this are still masked, but only as whole tokens (a 2-letter "key" would
#: otherwise blank out every occurrence of those letters in ordinary words).
SHORT_SECRET = 6

_PATTERNS = [
    # header- or query-style assignments of well-known credential names (with an auth scheme word)
    r"(?i:\b(?:authorization|x-api-key|api[-_]?key|x-goog-api-key|access[-_]?token|password|secret)"
    r"[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic)\s+)?[^\s\"',;&}]+)",
    # a bearer token on its own ("basic" alone is too common a word to mask what follows it)
    r"(?i:\bbearer\s+[A-Za-z0-9._~+/=\-]{4,})",
    # vendor key shapes (OpenAI, Anthropic, Google, GitHub)
    r"\bsk-[A-Za-z0-9_\-]{16,}",
    r"\bAIza[0-9A-Za-z_\-]{30,}",
    r"\bgh[pousr]_[A-Za-z0-9]{30,}",
]


class Redactor:
    """Callable that masks the given secrets and credential-shaped strings in text."""

    def __init__(self, secrets: Iterable[str | None] = (), *, patterns: bool = True) -> None:
        long_secrets: list[str] = []
        short_secrets: list[str] = []
        for s in {s for s in secrets if s}:
            (long_secrets if len(s) >= SHORT_SECRET else short_secrets).append(s)
        parts = [re.escape(s) for s in sorted(long_secrets, key=len, reverse=True)]
        parts += [rf"(?<![A-Za-z0-9]){re.escape(s)}(?![A-Za-z0-9])" for s in short_secrets]
        self._secrets = re.compile("|".join(parts)) if parts else None
        # Model output is redacted of known secrets only: credential-looking text in an answer is data.
        self._patterns = re.compile("|".join(f"(?:{p})" for p in _PATTERNS)) if patterns else None

    def __call__(self, text: str) -> str:
        """``text`` with every secret and credential-shaped substring replaced by ``***``."""
        if self._secrets is not None:
            text = self._secrets.sub(MASK, text)
        return self._patterns.sub(_mask_keep_name, text) if self._patterns is not None else text

    def with_secrets(self, secrets: Iterable[str | None]) -> Redactor:
        """A new redactor for a new set of secrets (after a config reload)."""
        return Redactor(secrets, patterns=self._patterns is not None)


def _mask_keep_name(match: re.Match[str]) -> str:
    """Keep the credential's name (``Bearer``, ``api_key=``) so logs still say what was masked."""
    text = match.group(0)
    m = re.match(r"(?i)bearer\s+", text)
    if m:
        return m.group(0) + MASK
    m = re.match(r"(?i)[A-Za-z_\-]+[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic)\s+)?", text)
    if m and not text.lower().startswith(("sk-", "aiza", "gh")):
        return m.group(0) + MASK
    return MASK


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the message, its arguments and any exception text.

    Attach it to *handlers* (filters on a logger do not see records of its child loggers).
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        redact = self.redactor
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def redacted_exception(exc: BaseException, redactor: Redactor) -> str:
    """One-line ``Type: message`` for an exception, safe to show."""
    return redactor(f"{type(exc).__name__}: {exc}")
