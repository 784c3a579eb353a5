"""``capmon baseline pin|show|reset|ack``: the baselines the regression and fingerprint detectors test against.

``ack`` acknowledges an alarm: the detector is re-armed against the same baseline (if the change
persists it fires again); ``reset`` accepts a lasting change as the new normal (learned again).

A running agent notices a change through a version stamp in the ledger's meta table
(``persistence.bump_version``) and reloads its detectors.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from agent.cli.common import load, parse_duration
from agent.config import Settings
from agent.ledger.store import Store


def register(subparsers: Any) -> None:
    """Add ``capmon baseline`` with its pin, show, reset and ack subcommands."""
    p = subparsers.add_parser("baseline", help="show, pin or reset detector baselines; acknowledge alarms")
    sub = p.add_subparsers(dest="baseline_command", required=True)
    show = sub.add_parser("show", help="list baselines and detector state")
    show.add_argument("--config", "-c", required=True)
    show.add_argument("--target", help="one target (default: all)")
    show.set_defaults(func=cmd_show)
    pin = sub.add_parser("pin", help="pin baselines from a target's recent results (kept until reset)")
    pin.add_argument("--config", "-c", required=True)
    pin.add_argument("--target", required=True)
    pin.add_argument("--window", default="24h", help="results to pin from: 90m, 24h, 7d (default 24h)")
    pin.set_defaults(func=cmd_pin)
    reset = sub.add_parser("reset", help="forget baselines and detector state; they are learned again")
    reset.add_argument("--config", "-c", required=True)
    reset.add_argument("--target", help="one target (default: all)")
    reset.set_defaults(func=cmd_reset)
    ack = sub.add_parser("ack", help="acknowledge an alarm: re-arm the detector against the same baseline")
    ack.add_argument("--config", "-c", required=True)
    ack.add_argument("--target", required=True)
    ack.add_argument(
        "--detector", help="one detector, e.g. glr_drop, fingerprint or truncation (default: every alarmed one)"
    )
    ack.set_defaults(func=cmd_ack)


def _open(args: argparse.Namespace) -> tuple[Settings, Store]:
    settings = load(args.config)
    return settings, Store(settings.store)


def cmd_show(args: argparse.Namespace) -> int:
    """Print baselines and detector statistics."""
    from agent.stats.detectors import detector_progress
    from agent.stats.persistence import FINGERPRINT

    _, store = _open(args)
    try:
        rows = store.baselines(args.target)
        states = {(s["target"], s["scope"]): s["data"] for s in store.detector_states(args.target)}
        if not rows:
            print("no baselines yet (learned from the first warm-up probes of each target)")
        for b in rows:
            data, when = b["data"], time.strftime("%Y-%m-%d %H:%M", time.gmtime(b["created"]))
            kind = "pinned" if b["pinned"] else "learned"
            if b["detector"] == FINGERPRINT:
                if "answers" not in data:
                    print(f"{b['target']:<20} fingerprint   re-learning after a change")
                    continue
                print(
                    f"{b['target']:<20} fingerprint   agreement {data['agreement']:.3f} over {data['n']} answers,"
                    f" {len(data['answers'])} prompts ({kind} {when} UTC)"
                )
                continue
            if data.get("p0") is None:
                print(f"{b['target']:<20} {b['scope']:<13} re-learning after a change")
                continue
            print(
                f"{b['target']:<20} {b['scope']:<13} pass ratio {data['p0']:.3f} over {data['n']} probes"
                f" ({kind} {when} UTC)"
            )
            for name, progress in sorted(detector_progress(states.get((b["target"], b["scope"]), {})).items()):
                print(f"{'':<34}{name:<15} {progress:6.1%} of threshold")
        return 0
    finally:
        store.close()


def cmd_pin(args: argparse.Namespace) -> int:
    """Pin each scope's baseline to the pass ratio of the target's recent fresh results."""
    from agent.ledger import queries
    from agent.stats import persistence  # numpy/scipy: only for the commands that change baselines
    from agent.stats.engine import baseline_ratio
    from agent.stats.persistence import FINGERPRINT, PASS_RATIO
    from agent.stats.snapshot import ALL

    try:
        window = parse_duration(args.window)
    except ValueError as exc:
        print(f"capmon: {exc}", file=sys.stderr)
        return 2
    settings, store = _open(args)
    try:
        # One outcome per item (its primary rendering), as the detectors see them.
        novelties = {t.name: list(t.novelties) for t in settings.targets}
        cells = queries.cell_counts(store, targets=[args.target], since=time.time() - window, primary=novelties)
        if not cells:
            print(f"capmon: no results for target {args.target!r} in the last {args.window}", file=sys.stderr)
            return 1
        counts: dict[str, tuple[int, int]] = {}
        for c in cells:
            k, n = counts.get(c.family, (0, 0))
            counts[c.family] = (k + c.passes, n + c.total)
        counts[ALL] = (sum(k for k, _ in counts.values()), sum(n for _, n in counts.values()))
        for scope, (k, n) in sorted(counts.items()):
            p0 = baseline_ratio(k, n)
            store.put_baseline(args.target, scope, PASS_RATIO, {"p0": p0, "n": n}, pinned=True)
            note = (
                ""
                if n >= settings.stats.warmup_probes
                else f" (fewer than warmup_probes={settings.stats.warmup_probes})"
            )
            print(f"pinned {args.target}/{scope}: pass ratio {p0:.3f} over {n} probes{note}")
        for b in store.baselines(args.target):
            if b["detector"] == FINGERPRINT and "answers" in b["data"]:
                store.put_baseline(args.target, FINGERPRINT, FINGERPRINT, b["data"], pinned=True)
                print(f"pinned {args.target}/fingerprint: agreement {b['data']['agreement']:.3f}")
        # Detectors are re-designed from the pinned baselines by the engine on its next update.
        store.delete_detector_states(args.target)
        persistence.bump_version(store)
        return 0
    finally:
        store.close()


def cmd_reset(args: argparse.Namespace) -> int:
    """Forget baselines and detector state (change points are kept)."""
    from agent.stats import persistence

    _, store = _open(args)
    try:
        n = store.delete_baselines(args.target)
        store.delete_detector_states(args.target)
        persistence.bump_version(store)
        print(f"reset {n} baseline(s){' of ' + args.target if args.target else ''}; they are learned again")
        return 0
    finally:
        store.close()


def cmd_ack(args: argparse.Namespace) -> int:
    """Acknowledge a target's alarms: each alarmed detector (or the one named) is re-armed."""
    from agent.stats import persistence

    _, store = _open(args)
    try:
        acked = persistence.acknowledge(store, args.target, args.detector)
        if not acked:
            which = f" {args.detector}" if args.detector else ""
            print(f"capmon: no alarmed detector{which} for target {args.target!r}", file=sys.stderr)
            return 1
        persistence.bump_version(store)
        for name in acked:
            print(f"acknowledged {args.target}/{name}: re-armed against the same baseline")
        return 0
    finally:
        store.close()
