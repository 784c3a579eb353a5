"""The CUSUM design computed in the worker process equals the in-process design, and the designing
process never loads numpy/scipy (issue 17: the daemon's memory)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from agent.stats import offload
from agent.stats.cusum import BASELINE_QUANTILE, GridGlr, design


@pytest.fixture
def fresh() -> Iterator[None]:
    offload.clear_cache()
    yield
    offload.shutdown()
    offload.clear_cache()


CASES = [(0.8, 0.7, 2e5, 200), (0.5, 0.45, 1e5, None), (0.95, 0.85, 5e4, 60), (0.3, 0.4, 3e4, 1000)]


def test_offloaded_designs_equal_in_process_designs(fresh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offload, "mode", "inline")
    here = [design(p0, p1, arl0, baseline_n=n) for p0, p1, arl0, n in CASES]
    offload.clear_cache()
    monkeypatch.setattr(offload, "mode", "process")
    there = [design(p0, p1, arl0, baseline_n=n) for p0, p1, arl0, n in CASES]
    assert offload.worker_running()
    assert there == here
    # The unknown-shift detector's arms too (each arm is one design).
    monkeypatch.setattr(offload, "mode", "process")
    glr = GridGlr.build(0.85, 1e5, baseline_n=300).to_dict()
    offload.clear_cache()
    monkeypatch.setattr(offload, "mode", "inline")
    assert GridGlr.build(0.85, 1e5, baseline_n=300).to_dict() == glr


def test_a_design_out_of_reach_is_a_value_error_from_the_worker(fresh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offload, "mode", "process")
    with pytest.raises(ValueError, match="out of reach"):
        design(0.8, 0.79, 1e12)
    assert offload.worker_running()  # the worker answered; it is still usable
    assert design(0.8, 0.7, 1e4).threshold > 0


def test_the_worker_exits_when_idle_and_comes_back(fresh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offload, "mode", "process")
    monkeypatch.setattr(offload, "IDLE_S", 0.2)
    first = design(0.7, 0.6, 1e4)
    deadline = time.monotonic() + 10
    while offload.worker_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not offload.worker_running()
    assert design(0.7, 0.6, 1e4) == first  # cached: no worker needed
    assert not offload.worker_running()
    design(0.7, 0.55, 1e4)
    assert offload.worker_running()


def test_a_process_without_scipy_designs_in_the_worker() -> None:
    code = (
        "import sys\n"
        "from agent.stats.cusum import design\n"
        "d = design(0.8, 0.7, 2e5, baseline_n=200)\n"
        "print(d.threshold, round(d.p_guard, 12), 'numpy' in sys.modules or 'scipy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    threshold, guard, loaded = out.stdout.split()
    offload.clear_cache()
    want = offload.compute((0.8, 0.7, 2e5, 200, BASELINE_QUANTILE, None))
    assert (int(threshold), float(guard), loaded) == (want[4], round(want[7], 12), "False")
