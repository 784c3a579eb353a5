"""The fault-injection endpoint as a fixture: a Python fake on 127.0.0.1, not an external component."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fault.server import FaultServer


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A fresh endpoint answering ``ok`` until told otherwise."""
    server = FaultServer().start()
    try:
        yield server
    finally:
        server.stop()
