from __future__ import annotations

from pathlib import Path

from agent.ledger.results import ProbeResult
from agent.ledger.store import RESPONSE_CAP, Store


def _result(**kw: object) -> ProbeResult:
    base: dict[str, object] = dict(
        ts=1000.0,
        run_id="r1",
        target="t1",
        provider="openai",
        model="m",
        family="arithmetic",
        difficulty=3,
        novelty=0,
        item_index=7,
        seed=42,
        item_key="arithmetic:fresh:3:42",
        static=False,
        canary=False,
        generator_version="1",
        prompt="What is 1 + 1?",
        response="Answer: 2",
        extracted="2",
        canonical="2",
        reference="2",
        score=1.0,
        outcome="pass",
        error_reason=None,
        http_status=200,
        latency_s=0.5,
        input_tokens=10,
        output_tokens=3,
        response_model="m-2024",
        system_fingerprint="fp",
    )
    base.update(kw)
    return ProbeResult(**base)  # type: ignore[arg-type]


def test_results_round_trip_and_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store(path)
    rid = store.add_result(_result())
    store.add_result(_result(outcome="error", score=None, error_reason="timeout", ts=2000.0))
    store.close()
    again = Store(path)
    got = again.result(rid)
    assert got is not None and got.result == _result()
    assert again.count(target="t1") == 2
    assert again.count(outcome="error") == 1
    assert [r.result.ts for r in again.results(since=1500.0)] == [2000.0]
    assert again.integrity_ok()


def test_salt_is_made_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    first = Store(path).salt()
    assert len(first) == 32
    assert Store(path).salt() == first
    assert Store(tmp_path / "other.db").salt() != first


def test_response_is_capped(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    rid = store.add_result(_result(response="x" * (RESPONSE_CAP * 3)))
    got = store.result(rid)
    assert got is not None and got.result.response is not None
    assert len(got.result.response) == RESPONSE_CAP


def test_usage_since_sums_tokens_and_cost(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.add_result(_result(ts=100.0, cost_usd=0.5))
    store.add_result(_result(ts=200.0, cost_usd=0.25, input_tokens=None))
    store.add_result(_result(ts=300.0, target="other"))
    assert store.usage_since("t1", 0.0) == (2, 10 + 3 + 3, 0.75)
    assert store.usage_since("t1", 150.0) == (1, 3, 0.25)


def test_runs_baselines_and_change_points(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.start_run("r1", "t1", planned=5)
    store.finish_run("r1", "abandoned", completed=3, abandoned=2)
    (run,) = store.runs("t1")
    assert (run["status"], run["completed"], run["abandoned"]) == ("abandoned", 3, 2)
    store.put_baseline("t1", "all", "cusum", {"p0": 0.8, "n0": 200}, pinned=True)
    (b,) = store.baselines("t1")
    assert b["pinned"] is True and b["data"] == {"p0": 0.8, "n0": 200}
    store.add_change_point(
        ts=5.0,
        target="t1",
        scope="all",
        detector="cusum_drop_10",
        direction="drop",
        size=-0.1,
        statistic=6.0,
        threshold=5.35,
        probes=150,
    )
    assert store.change_points("t1")[0]["detector"] == "cusum_drop_10"
    assert store.delete_baselines("t1") == 1 and store.baselines() == []


def test_checkpoint_thread_moves_commits_into_the_database_file(tmp_path: Path) -> None:
    import shutil
    import sqlite3
    import time

    path = tmp_path / "s.db"
    store = Store(path)
    assert store._checkpointer._thread is None  # nothing written yet: no thread
    ids = [store.add_result(_result(item_index=i)) for i in range(50)]
    deadline = time.monotonic() + 10
    while store._checkpointer.checkpoints == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store._checkpointer.checkpoints >= 1
    # The database file alone (no -wal beside it) now holds every committed row.
    alone = tmp_path / "alone.db"
    shutil.copyfile(path, alone)
    with sqlite3.connect(alone) as conn:
        assert conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == len(ids)
    store.close()
    assert store._checkpointer._thread is not None and not store._checkpointer._thread.is_alive()


def test_commits_survive_a_kill_before_any_checkpoint(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "s.db"
    code = (
        "import os, sys\n"
        "from tests.agent.ledger.test_store import _result\n"
        "from agent.ledger.store import Store\n"
        f"s = Store({str(path)!r})\n"
        "for i in range(20): s.add_result(_result(item_index=i))\n"
        "os.kill(os.getpid(), 9)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[3], check=False)
    assert proc.returncode == -9
    again = Store(path)
    assert again.count(target="t1") == 20
    assert again.integrity_ok()
    again.close()


def test_close_truncates_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store(path)
    for i in range(30):
        store.add_result(_result(item_index=i))
    store.close()
    wal = Path(str(path) + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
