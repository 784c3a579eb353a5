"""Fixtures for the provider adapter tests."""

from __future__ import annotations

import pytest

from tests.agent.providers.provider_wire import MakeAdapter, adapter_factory


@pytest.fixture
def make_adapter() -> MakeAdapter:
    """Build an adapter for a provider wired to a recording local endpoint."""
    return adapter_factory()
