"""The ``capmon`` command line. Exit status: 0 ok, 1 nothing reachable / failure, 2 bad config or usage."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from agent import __version__
from agent.config import Settings, check_families, load_config
from agent.errors import CapmonError, ConfigError
from agent.tables import results_table
from probes.errors import ProbeError

log = logging.getLogger("capmon")

#: Subcommand modules, each with ``register(subparsers)``.
AREA_MODULES = ("agent.cli_probes", "agent.cli_baseline", "agent.cli_report", "agent.cli_dashboards")


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (its default) but never prints a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"capmon: {message}\n")


def load(path: str | None) -> Settings:
    """Load a config and check its family names against every family the agent can load."""
    from agent.daemon import probe_registry

    source = path or "<environment>"
    settings = load_config(path)
    try:
        registry = probe_registry(settings)
    except ProbeError as exc:  # a template or entry-point family that does not load is a config problem
        raise ConfigError(source, "probe_templates", str(exc)) from None
    check_families(settings, source, set(registry.names()))
    return settings


def setup_logging(level: str, secrets: Sequence[str] = ()) -> None:
    """Plain logs to stderr, with secrets redacted from every record."""
    from agent.redact import RedactingFilter, Redactor

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # "maximum number of running instances reached" is expected when a run outlasts its interval.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def _secrets(settings: Settings) -> list[str]:
    out: list[str] = []
    for t in settings.targets:
        with contextlib.suppress(ConfigError):
            key = t.resolved_api_key()
            if key is not None:
                out.append(key.get_secret_value())
        out += [h.get_secret_value() for h in t.headers.values()]
    return out


# -- commands -------------------------------------------------------------------------------------


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a config file."""
    settings = load(args.file or args.config)
    for t in settings.targets:
        t.resolved_api_key(args.file or args.config)
    print(f"{args.file or args.config}: ok ({len(settings.targets)} target(s))")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the daemon until SIGTERM/SIGINT."""
    settings = load(args.config)
    setup_logging(settings.log_level, _secrets(settings))
    return asyncio.run(_serve(settings, args.config))


async def _serve(settings: Settings, source: str) -> int:
    from agent.daemon import Agent

    agent = Agent(settings, source=source)
    agent.config_loader = lambda: load(source)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, agent.stop.set)
    loop.add_signal_handler(signal.SIGHUP, agent.reload_requested.set)
    try:
        await agent.serve()
    finally:
        await agent.aclose()
    log.info("capmon agent stopped")
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    """One round now, a result table on the terminal."""
    if not args.once:
        print("capmon: probe needs --once (use 'capmon run' for the schedule)", file=sys.stderr)
        return 2
    settings = load(args.config)
    setup_logging("warning", _secrets(settings))
    if not settings.targets:
        print(f"capmon: {args.config}: targets: no targets configured", file=sys.stderr)
        return 2
    return asyncio.run(_probe_once(settings, args.config))


async def _probe_once(settings: Settings, source: str) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from agent.daemon import Agent

    agent = Agent(settings, source=source)
    console = Console()
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("probing", total=None)
            summaries = await agent.run_round()
            progress.update(task, completed=1, total=1)
        ids = [i for s in summaries for i in s.result_ids]
        rows = [r for r in (agent.store.result(i) for i in ids) if r is not None]
        console.print(results_table([r.result for r in rows], title="capmon probe --once"))
        for s in summaries:
            console.print(
                f"{s.target}: {s.passed} pass, {s.failed} fail, {s.errors} error"
                + ("" if s.reached else " — endpoint not reached")
            )
    finally:
        await agent.aclose()
    return 0 if any(s.reached for s in summaries) else 1


def cmd_demo(args: argparse.Namespace) -> int:
    """Start a real local model and monitor it, with a live table."""
    from agent.demo import run_demo

    return run_demo(store=Path(args.store), listen=args.listen, interval_s=args.interval)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    import importlib

    parser = _ArgumentParser(prog="capmon", description="Continuous AI-capability monitor.")
    parser.add_argument("--version", action="version", version=f"capmon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)

    p = sub.add_parser("run", help="run the daemon")
    p.add_argument("--config", "-c", required=True)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("probe", help="probe now")
    p.add_argument("--config", "-c", required=True)
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("check-config", help="validate a config file (exit 0 ok, 2 invalid)")
    p.add_argument("file", nargs="?")
    p.add_argument("--config", "-c")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("demo", help="start a local SmolLM2 model and monitor it")
    p.add_argument("--store", default="./capmon-demo.db")
    p.add_argument("--listen", default="127.0.0.1:9787")
    p.add_argument("--interval", type=float, default=20.0, help="seconds between runs")
    p.set_defaults(func=cmd_demo)

    for name in AREA_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None) == "check-config" and not (args.file or args.config):
        print("capmon: check-config needs a file", file=sys.stderr)
        return 2
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(f"capmon: {exc}", file=sys.stderr)
        return 2
    except CapmonError as exc:
        print(f"capmon: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
