"""The Kubernetes manifests, checked without a cluster: base/ is what
infra/k8s/generate.py makes from the services' manifests; kubectl's kustomize
renders both overlays; every rendered object validates against the Kubernetes
schemas offline (kubernetes-validate, strict); and every service has probes,
requests and limits, a PodDisruptionBudget, a NetworkPolicy that lets it reach
only its dependencies, its migration Job and ServiceAccounts -- with no secret
value anywhere."""

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from confide_runtime.manifest import discover

ROOT = Path(__file__).parents[1]
K8S = ROOT / "infra" / "k8s"
SERVICES = sorted(m.name for m in discover())
KUBERNETES_VERSION = "1.31.0"


def generator():
    spec = importlib.util.spec_from_file_location("k8s_generate", K8S / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_base_is_what_the_generator_makes():
    for name, text in generator().render().items():
        assert (K8S / "base" / name).read_text() == text, (
            f"infra/k8s/base/{name} is out of date: uv run python infra/k8s/generate.py")


@pytest.fixture(scope="module", params=["dev", "production"])
def rendered(request) -> tuple[str, list[dict]]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed to render infra/k8s (make test installs what it can; see ensure-infra.sh)"
    out = subprocess.run([kubectl, "kustomize", str(K8S / "overlays" / request.param)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return request.param, [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def by_kind(objects, kind) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_every_object_validates_against_the_kubernetes_schemas(rendered):
    overlay, objects = rendered
    assert len(objects) > 40
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{overlay}: {obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_every_service_has_probes_limits_a_budget_and_a_network_policy(rendered):
    overlay, objects = rendered
    deployments, jobs = by_kind(objects, "Deployment"), by_kind(objects, "Job")
    budgets, policies = by_kind(objects, "PodDisruptionBudget"), by_kind(objects, "NetworkPolicy")
    autoscalers, accounts = by_kind(objects, "HorizontalPodAutoscaler"), by_kind(objects, "ServiceAccount")
    namespace = {"dev": "confide-dev", "production": "confide"}[overlay]
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {namespace}
    assert "default-deny" in policies and policies["default-deny"]["spec"] == {
        "podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for name in SERVICES:
        pod = deployments[name]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert container[probe]["httpGet"]["port"] == "probes", (overlay, name, probe)
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert container["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
        assert re.fullmatch(rf"confide/{name}:\S+", container["image"]), container["image"]  # a tag, set per overlay
        # it logs in to Vault as its own ServiceAccount, and waits for its migration Job
        assert pod["serviceAccountName"] == f"confide-{name}" and f"confide-{name}" in accounts
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["VAULT_K8S_ROLE"] == name and env["AMQP_URI"].startswith(f"amqps://confide-{name}@")
        assert pod["initContainers"][0]["command"][:3] == ["confide-migrate", name, "--wait"]
        job = jobs[f"migrate-{name}"]["spec"]["template"]["spec"]
        assert job["containers"][0]["command"] == ["confide-migrate", name]
        assert job["serviceAccountName"] == f"confide-{name}-migrate" and f"confide-{name}-migrate" in accounts
        # a budget, and autoscaling for all but the audit chains' consumers
        assert budgets[name]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == name
        assert (name in autoscalers) == (name != "audit"), name
        # reaching only the broker, PostgreSQL, Vault, DNS and the trace collector (and, for the gateway, its IdP)
        policy = policies[name]["spec"]
        assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == name
        assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
        reached = {p["port"] for rule in policy["egress"] for p in rule["ports"]}
        extra = {"gateway": {443}, "audit": {8010}}.get(name, set())  # its IdP; the witness
        assert reached == ({5432, 5671, 8200, 4318, 53} | extra), (name, reached)
    assert deployments["audit"]["spec"]["replicas"] >= 1  # chains: one active consumer each, the others standby


def test_every_connection_leaving_a_pod_is_tls_with_the_clinics_ca_pinned(rendered):
    overlay, objects = rendered
    config = by_kind(objects, "ConfigMap")["confide"]["data"]
    ca = "/etc/confide/ca/ca.crt"
    assert config["VAULT_ADDR"].startswith("https://") and config["VAULT_CACERT"] == ca
    assert config["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("https://")
    assert config["OTEL_EXPORTER_OTLP_CERTIFICATE"] == ca and config["AMQP_CACERT"] == ca
    for obj in objects:
        pod = obj.get("spec", {}).get("template", {}).get("spec", {})
        for container in _containers(obj):
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            if "DATABASE_URL" in env:
                assert env["DATABASE_URL"].endswith(f"?sslmode=verify-full&sslrootcert={ca}"), (overlay, env)
            if "AMQP_URI" in env:
                assert env["AMQP_URI"].startswith("amqps://") and ":5671/" in env["AMQP_URI"]
            if container.get("envFrom"):  # (everything that reads the ConfigMap talks to the platform's servers)
                mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
                assert mounts.get("/etc/confide/ca") == "ca", (overlay, obj["metadata"]["name"], container["name"])
                volume = next(v for v in pod["volumes"] if v["name"] == "ca")
                assert volume["configMap"]["name"] == "confide-ca"


def test_no_secret_value_is_in_the_manifests(rendered):
    overlay, objects = rendered
    assert not by_kind(objects, "Secret"), "Secrets are made at install time, never kept in git"
    text = yaml.safe_dump_all(objects)
    assert not re.search(r"://[^/@\s:]+:[^/@\s]+@", text), "a URL with a password"
    for obj in objects:
        for container in _containers(obj):
            for item in container.get("env", []):
                if re.search(r"PASSWORD|TOKEN|SECRET", item["name"]) and "value" in item:
                    assert item["name"].endswith("_FILE") or item["name"] == "VAULT_K8S_ROLE", (overlay, item)


def _containers(obj):
    spec = obj.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]
