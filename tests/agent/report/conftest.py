"""Fixtures for the report tests (the ledger is built once per module: rendering charts takes seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agent.report.report_fixtures import SimLedger, fill_ledger


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimLedger]:
    """A simulated ledger with two grouped targets."""
    led = fill_ledger(tmp_path_factory.mktemp("ledger") / "capmon.db")
    yield led
    led.store.close()
