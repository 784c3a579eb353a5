"""The image definition, checked without a Docker engine: parsed, and its build step rehearsed with pip."""

from __future__ import annotations

import fnmatch
import json
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agent.config import DEFAULT_LISTEN

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
COMPILERS = ("gcc", "g++", "clang", "build-essential", "cc ", "make ", "cmake", "rustc", "cargo")


@dataclass
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARGs and stages; line continuations joined, comments dropped, ${ARG} expanded in FROM."""
    logical: list[str] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):
            continue  # comments inside a continued instruction are dropped, as Docker does
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        logical.append(buf + line)
        buf = ""
    assert not buf, "Dockerfile ends inside a line continuation"
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = rest.split()
            base = words[0]
            for k, v in args.items():
                base = base.replace("${" + k + "}", v).replace("$" + k, v)
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=base, name=name))
        elif not stages:
            assert keyword == "ARG", f"only ARG may precede FROM, got {keyword}"
            k, _, v = rest.partition("=")
            args[k] = v
        else:
            stages[-1].instructions.append(Instruction(keyword, rest))
    return args, stages


def _exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())[1]


def test_parser_handles_continuations_and_stages() -> None:
    args, st = parse_dockerfile("ARG B=x:1\nFROM ${B} AS a\nRUN a \\\n  # c\n  && b\nFROM scratch\nUSER 1\n")
    assert args == {"B": "x:1"}
    assert [(s.base, s.name) for s in st] == [("x:1", "a"), ("scratch", None)]
    assert st[0].all("RUN")[0].args == "a  && b"


def test_multi_stage_on_slim_python_311(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    for s in stages:
        assert s.base.startswith("python:3.11-slim"), s.base
    final = stages[-1]
    assert any(i.args.startswith("--from=builder") for i in final.all("COPY"))


def test_final_stage_runs_as_non_root(stages: list[Stage]) -> None:
    users = stages[-1].all("USER")
    assert users, "final stage has no USER"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0")
    # Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
    assert user.isdigit()


def test_no_compilers_in_final_stage(stages: list[Stage]) -> None:
    for ins in stages[-1].all("RUN"):
        words = ins.args + " "
        assert not any(c in words for c in COMPILERS), ins.args
        assert "apt-get install" not in words and "apk add" not in words, ins.args


def test_healthcheck_uses_healthz_without_curl(stages: list[Stage]) -> None:
    checks = stages[-1].all("HEALTHCHECK")
    assert len(checks) == 1
    cmd_part = checks[0].args[checks[0].args.index("CMD") + 3 :].strip()
    argv = _exec_form(cmd_part)
    assert argv[0] == "python" and "/healthz" in argv[-1]
    assert not {"curl", "wget"} & set(argv)
    # The one-liner must at least be valid Python.
    compile(argv[-1], "<healthcheck>", "exec")


def test_store_volume_config_file_port_and_entrypoint(stages: list[Stage]) -> None:
    final = stages[-1]
    volumes = [v for i in final.all("VOLUME") for v in _exec_form(i.args)]
    assert "/var/lib/capmon" in volumes
    # The default store is ./capmon.db, so the working directory must be the volume.
    assert final.all("WORKDIR")[-1].args == "/var/lib/capmon"
    default_port = DEFAULT_LISTEN.rpartition(":")[2]
    assert [i.args for i in final.all("EXPOSE")] == [default_port]
    env = " ".join(i.args for i in final.all("ENV"))
    assert f"CAPMON_LISTEN=0.0.0.0:{default_port}" in env
    assert _exec_form(final.all("ENTRYPOINT")[-1].args) == ["capmon", "run", "--config"]
    assert _exec_form(final.all("CMD")[-1].args) == ["/etc/capmon/capmon.yaml"]


def _copy_sources(stages: list[Stage]) -> list[str]:
    sources: list[str] = []
    for s in stages:
        for ins in s.all("COPY"):
            words = [w for w in shlex.split(ins.args) if not w.startswith("--")]
            if any(w.startswith("--from") for w in shlex.split(ins.args)):
                continue
            sources.extend(words[:-1])
    return sources


def test_every_copy_source_exists_and_is_not_dockerignored(stages: list[Stage]) -> None:
    sources = _copy_sources(stages)
    assert sources
    for src in sources:
        assert (ROOT / src).exists(), f"COPY source {src} missing from the build context"
    ignore = ROOT / ".dockerignore"
    if ignore.exists():
        patterns = [p.strip() for p in ignore.read_text().splitlines() if p.strip() and not p.startswith("#")]
        for src in sources:
            excluded = False
            for p in patterns:
                negate = p.startswith("!")
                if fnmatch.fnmatch(src, p.lstrip("!").rstrip("/")):
                    excluded = not negate
            assert not excluded, f"{src} is excluded by .dockerignore"


def test_builder_step_builds_a_wheel_from_only_the_copied_files(stages: list[Stage], tmp_path: Path) -> None:
    # Rehearses the builder's `pip wheel` on exactly what the Dockerfile copies: a missing file fails here.
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    for src in _copy_sources(stages):
        path = ROOT / src
        if path.is_dir():
            shutil.copytree(path, ctx / src, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, ctx / src)
    out = tmp_path / "wheels"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            ".",
        ],
        cwd=ctx,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheels = list(out.glob("capmon-*.whl"))
    assert len(wheels) == 1
    with zipfile.ZipFile(wheels[0]) as whl:
        names = whl.namelist()
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "capmon = agent.cli:main" in whl.read(entry_points).decode()
    # Every module and data file of the packages reaches the image (package-data mistakes show up here).
    wanted = {
        str(p.relative_to(ROOT))
        for pkg in ("agent", "probes", "dashboards")
        for p in (ROOT / pkg).rglob("*")
        if p.is_file() and p.suffix in (".py", ".yaml", ".json", ".html") and "__pycache__" not in p.parts
    }
    assert "agent/cli.py" in wanted and "agent/sharding.py" in wanted
    assert sorted(wanted - set(names)) == []


def test_healthcheck_command_passes_on_a_live_agent_and_fails_without_one(stages: list[Stage], tmp_path: Path) -> None:
    import os

    from agent.llama import free_port
    from tests.integration.conftest import start_agent

    check = stages[-1].all("HEALTHCHECK")[0].args
    argv = _exec_form(check[check.index("CMD") + 3 :].strip())
    argv[0] = sys.executable  # the image's `python`
    target = {"name": "nowhere", "base_url": f"http://127.0.0.1:{free_port()}/v1", "model": "m"}
    agent = start_agent(tmp_path, [target])
    try:
        env = {**os.environ, "CAPMON_LISTEN": f"0.0.0.0:{agent.port}"}
        assert subprocess.run(argv, env=env, timeout=30).returncode == 0
    finally:
        agent.stop()
    env = {**os.environ, "CAPMON_LISTEN": f"0.0.0.0:{agent.port}"}
    assert subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode != 0
