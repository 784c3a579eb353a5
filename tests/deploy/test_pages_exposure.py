"""Every shipped configuration listens on all interfaces without basic auth: its status pages must be off."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import load_config
from agent.serve.web import pages_allowed

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    str(p.relative_to(ROOT))
    for p in [ROOT / "deploy/compose/capmon.yaml", *(ROOT / "deploy/kubernetes/overlays").glob("*/capmon.yaml")]
)


@pytest.mark.parametrize("config", SHIPPED)
def test_shipped_configs_do_not_serve_prompts_and_responses_unauthenticated(
    config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPMON_LISTEN", "0.0.0.0:9787")  # what the Dockerfile and the manifests set
    settings = load_config(ROOT / config)
    assert not settings.web.basic_auth_users and not settings.web.allow_unauthenticated_pages
    assert not pages_allowed(settings)
    assert "web.allow_unauthenticated_pages" in (ROOT / config).read_text()  # the comment says how to open them
