"""Hammer a URL from N threads for S seconds in a process of its own; print the status counts as JSON.

    python -m tests.fault.flood http://127.0.0.1:9787/ --clients 12 --seconds 10

Used by tests/fault/test_live_agent.py, so the flood's own CPU and GIL do not slow the fake
endpoint or the /healthz timer in the test process.
"""

from __future__ import annotations

import argparse
import collections
import json
import threading
import time

import httpx


def flood(url: str, clients: int, seconds: float) -> dict[str, int]:
    """Status code → count of the requests ``clients`` threads made in ``seconds``."""
    codes: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def hammer() -> None:
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline:
                code = str(client.get(url).status_code)
                with lock:
                    codes[code] += 1

    threads = [threading.Thread(target=hammer) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return dict(codes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(json.dumps(flood(args.url, args.clients, args.seconds)))


if __name__ == "__main__":
    main()
