"""Where a running agent's memory sits, over time: what ``footprint soak`` cannot see from outside.

    python -m benchmarks.memory_breakdown [--targets 10] [--seconds 600] [--every 60] [--no-trim]
                                          [--refresh-interval 30] [--arena-max N]

Runs ``capmon run`` (its ``main``) in this process against ``benchmarks.instant_endpoint``, with every
family, and a sampler thread that prints, every ``--every`` seconds: RSS (anonymous and file-backed),
glibc's heap (``mallinfo2``: in use, free inside the heap, mmapped), Python's object allocator
(``sys._debugmallocstats``: arenas, bytes in live objects, bytes free in used pools), SQLite's own
allocations, the process's threads and what each glibc arena holds from the system (``malloc_info``;
threads that allocate get arenas of their own), and the object types whose count grew most since the
last sample. ``--no-trim`` turns off the agent's ``malloc_trim`` after each statistics refresh, to see
what that trim releases; ``--refresh-interval`` sets ``stats.refresh_interval_s`` (a large value: one
refresh at start, then none, to see what probing alone holds); ``--arena-max`` sets glibc's
M_ARENA_MAX before any thread starts (1: what ``capmon run`` sets, ``agent.daemon.share_one_heap``).

The sampler costs memory itself (a list of every live object per sample), so RSS here runs a few
MiB above ``footprint soak``'s; compare runs of this script with each other, not with the soak.
"""

from __future__ import annotations

import sys

# As ``capmon``'s entry point does before httpx is first imported (agent/cli/__init__.py).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import argparse  # noqa: E402
import collections  # noqa: E402
import ctypes  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

from benchmarks.footprint import free_port, instant_endpoint, target  # noqa: E402


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                     "keepcost")
    ]  # fmt: skip


def _proc_status() -> dict[str, float]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) / 1024
        elif key == "Threads":
            out[key] = int(value)
    return out


def _pymalloc() -> tuple[int, float, float]:
    """(arenas, MiB in live objects, MiB free in used pools) from ``sys._debugmallocstats`` (it writes
    to the C stderr, so fd 2 is pointed at a file for the call)."""
    saved = os.dup(2)
    with tempfile.TemporaryFile() as out:
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")

    def grab(label: str) -> int:
        m = re.search(re.escape(label) + r"\s*=\s*([\d,]+)", text)
        return int(m.group(1).replace(",", "")) if m else -1

    mib = 2**20
    return (grab("# arenas allocated current"), grab("# bytes in allocated blocks") / mib,
            grab("# bytes in available blocks") / mib)  # fmt: skip


def _arenas(libc: ctypes.CDLL) -> list[float]:
    """MiB each glibc arena holds from the system (``malloc_info``'s per-heap ``system current``)."""
    with tempfile.TemporaryFile() as out:
        stream = libc.fdopen(os.dup(out.fileno()), b"w")
        libc.malloc_info(0, stream)
        libc.fclose(stream)
        out.seek(0)
        text = out.read().decode(errors="replace")
    heaps = re.findall(r'<heap nr="\d+">.*?<system type="current" size="(\d+)"/>', text, re.S)
    return [int(h) / 2**20 for h in heaps]


def _sampler(every: float, start: float) -> None:
    libc = ctypes.CDLL("libc.so.6")
    libc.fdopen.restype = ctypes.c_void_p
    libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.mallinfo2.restype = _MallInfo2
    try:
        sqlite = ctypes.CDLL("libsqlite3.so.0")
        sqlite.sqlite3_memory_used.restype = ctypes.c_int64
    except OSError:
        sqlite = None
    previous: collections.Counter[str] | None = None
    mib = 2**20
    while True:
        time.sleep(every)
        st = _proc_status()
        mi = libc.mallinfo2()
        arenas, live, free = _pymalloc()
        objects = gc.get_objects()
        types = collections.Counter(type(o).__name__ for o in objects)
        del objects
        grew = "" if previous is None else " ".join(f"{k}+{v}" for k, v in (types - previous).most_common(4))
        previous = types
        used = sqlite.sqlite3_memory_used() / mib if sqlite is not None else float("nan")
        print(f"t={time.monotonic() - start:5.0f} s  RSS {st['VmRSS']:5.1f} (anon {st['RssAnon']:5.1f},"
              f" file {st['RssFile']:4.1f})  glibc in use {mi.uordblks / mib:4.1f} free {mi.fordblks / mib:4.1f}"
              f" mmap {mi.hblkhd / mib:3.1f}  pymalloc arenas {arenas} live {live:4.1f} free {free:4.1f}"
              f"  sqlite {used:3.1f}  threads {st['Threads']:.0f} glibc arenas"
              f" {'/'.join(f'{a:.1f}' for a in _arenas(libc))}  objects {sum(types.values())} {grew}",
              file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.memory_breakdown", description=__doc__.split("\n")[0])
    p.add_argument("--targets", type=int, default=10)
    p.add_argument("--seconds", type=float, default=600)
    p.add_argument("--every", type=float, default=60)
    p.add_argument("--no-trim", action="store_true", help="no malloc_trim after each statistics refresh")
    p.add_argument("--arena-max", type=int, help="glibc's M_ARENA_MAX, set before any thread starts")
    p.add_argument("--refresh-interval", type=float, default=30, help="stats.refresh_interval_s (default 30)")
    args = p.parse_args(argv)
    if args.arena_max:
        ctypes.CDLL("libc.so.6").mallopt(-8, args.arena_max)  # M_ARENA_MAX
    if args.no_trim:
        import agent.daemon

        agent.daemon.release_free_heap = lambda: None
    from agent.cli import main as capmon

    with tempfile.TemporaryDirectory() as tmp, instant_endpoint() as base:
        cfg = Path(tmp) / "capmon.yaml"
        probing = [target(f"t{i}", base, interval_s=10, probes_per_run=20) for i in range(args.targets)]
        config = {"targets": probing, "store": str(Path(tmp) / "capmon.db"), "listen": f"127.0.0.1:{free_port()}",
                  "stats": {"refresh_interval_s": args.refresh_interval}}
        cfg.write_text(yaml.safe_dump(config, sort_keys=False))
        start = time.monotonic()
        threading.Thread(target=_sampler, args=(args.every, start), daemon=True).start()
        timer = threading.Timer(args.seconds, lambda: os.kill(os.getpid(), signal.SIGTERM))
        timer.daemon = True
        timer.start()
        return capmon(["run", "--config", str(cfg)])


if __name__ == "__main__":
    sys.exit(main())
