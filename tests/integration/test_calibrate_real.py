"""``capmon calibrate`` end to end against the real SmolLM2-135M (llama.cpp server), with a small budget."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agent.ledger import queries
from agent.ledger.store import Store
from agent.llama import LlamaServer
from agent.run.caps import estimate_tokens
from tests.integration.conftest import smollm2_target

pytestmark = pytest.mark.integration


def test_calibrate_finds_a_frontier_per_family_on_the_real_model(llama_server: LlamaServer, tmp_path: Path) -> None:
    store_path = tmp_path / "cal.db"
    target = smollm2_target(
        llama_server.base_url, families=["arithmetic", "needle_retrieval"],
        difficulties="1-40",
        max_tokens=32,
        max_prompt_tokens=2048 - 32,  # start_llama_server's context
    )
    config = tmp_path / "capmon.yaml"
    config.write_text(yaml.safe_dump({"store": str(store_path), "targets": [target]}))
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli", "calibrate", "-c", str(config), "--target", "smollm2",
         "--probes-per-family", "8", "--max-tokens-total", "40000"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "capmon calibrate: smollm2" in proc.stdout
    assert "arithmetic" in proc.stdout and "needle_retrieval" in proc.stdout
    store = Store(store_path)
    try:
        rows = [r.result for r in store.results()]
        # Ordinary recorded probes: 8 per family, fresh, answered by the real model.
        assert len(rows) == 16 and sum(r.outcome != "error" for r in rows) >= 14
        cals = {c.family: c for c in queries.calibrations(store, "smollm2")}
        assert set(cals) == {"arithmetic", "needle_retrieval"}
        for c in cals.values():
            assert c.lower <= c.d50 <= c.upper and c.probes == 8 and c.tokens > 0
            if c.censored == "none":
                assert 1 <= c.d50 <= 40 and math.isfinite(c.lower) and math.isfinite(c.upper)
            else:  # 8 probes of a 135M model can all fail (or pass): then a one-sided bound, said so
                assert c.censored in ("below", "above")
                assert math.isinf(c.lower) if c.censored == "below" else math.isinf(c.upper)
        # The prompt-size estimate errs high against the real tokenizer's count (llama.cpp usage).
        for r in rows:
            if r.input_tokens is not None:
                assert r.input_tokens <= estimate_tokens(r.prompt), (r.input_tokens, r.prompt[:200])
    finally:
        store.close()
