"""Writes infra/k8s/base from the installed services' manifests, so every
service gets the same shape and none is forgotten:

    uv run python infra/k8s/generate.py     # then review the diff; a test keeps base/ equal to this

Per service: two ServiceAccounts (the service's, the migration Job's; each bound
to a Vault Kubernetes auth role of the same name by confide-bootstrap), the
migration Job, a Deployment (its init container waits for the Job's work;
liveness, readiness and startup probes; requests and limits; non-root, read-only
root filesystem), a PodDisruptionBudget, a HorizontalPodAutoscaler for the
stateless services, and a NetworkPolicy letting it reach only the broker,
PostgreSQL, Vault, DNS and the trace collector. Plus: a default-deny policy, the
bootstrap Job, the gateway's Service. No secret values: the broker passwords are
Secrets made at install time (from Vault, e.g. by External Secrets), referenced
here by name; Vault logins use the pods' ServiceAccount tokens.

TLS on every connection that leaves a pod: Vault over https, RabbitMQ as amqps
(5671), PostgreSQL with ``sslmode=verify-full``, OTLP over https; every
container pins the clinic's CA from the ConfigMap ``confide-ca`` (key
``ca.crt``; e.g. cert-manager's trust-manager bundle), mounted at
/etc/confide/ca, and checks each server's name.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from confide_runtime.manifest import ServiceManifest, discover

BASE = Path(__file__).parent / "base"
PROBE_PORT = 8080
LABEL = "app.kubernetes.io/name"
PART_OF = {"app.kubernetes.io/part-of": "confide"}
# where the platform's dependencies run: a namespace labelled confide.io/infra=true
INFRA = {"namespaceSelector": {"matchLabels": {"confide.io/infra": "true"}}}
DEPENDENCIES = [("postgresql", 5432), ("rabbitmq", 5671), ("openbao", 8200), ("otel-collector", 4318)]
CA = "/etc/confide/ca/ca.crt"  # the clinic's CA, from the ConfigMap confide-ca
CA_MOUNT = {"name": "ca", "mountPath": "/etc/confide/ca", "readOnly": True}
CA_VOLUME = {"name": "ca", "configMap": {"name": "confide-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}
# what each service needs by default (the overlays scale these)
RESOURCES = {
    "gateway": ({"cpu": "250m", "memory": "256Mi"}, {"cpu": "1", "memory": "512Mi"}),
    "audit": ({"cpu": "500m", "memory": "384Mi"}, {"cpu": "2", "memory": "1Gi"}),
}
# the services that answer HTTP: the gateway (the API), the witness (C2SP tlog-witness)
HTTP_PORTS = {"gateway": 8000, "witness": 8010}
DEFAULT_RESOURCES = ({"cpu": "100m", "memory": "256Mi"}, {"cpu": "1", "memory": "512Mi"})
# the audit service consumes chains with single active consumers: its pods share
# the chains (a standby takes over a chain within seconds), so it is not autoscaled
STATEFUL = {"audit"}

SECURITY = {
    "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
}


def labels(name: str, component: str = "service") -> dict:
    return {LABEL: name, "app.kubernetes.io/component": component, **PART_OF}


def service_env(m: ServiceManifest, identity: str) -> list[dict]:
    return [
        {"name": "VAULT_ADDR", "valueFrom": {"configMapKeyRef": {"name": "confide", "key": "VAULT_ADDR"}}},
        {"name": "VAULT_K8S_ROLE", "value": identity},
        {"name": "DATABASE_URL", "value": f"postgresql+psycopg://$(POSTGRES_HOST):5432/confide_{m.name}"
                                          f"?sslmode=verify-full&sslrootcert={CA}"},
    ]


def env_from_config() -> list[dict]:
    return [{"configMapRef": {"name": "confide"}}]


def service_account(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "labels": PART_OF},
            "automountServiceAccountToken": True}


def migration_job(m: ServiceManifest) -> dict:
    identity = f"{m.name}-migrate"
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": f"migrate-{m.name}", "labels": labels(m.name, "migration"),
                     # GitOps tools run it before the Deployment; the Deployment's init container waits for it anyway
                     "annotations": {"argocd.argoproj.io/sync-wave": "-1", "argocd.argoproj.io/hook": "Sync"}},
        "spec": {
            "backoffLimit": 6, "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": labels(m.name, "migration")},
                "spec": {
                    "serviceAccountName": f"confide-{identity}", "restartPolicy": "OnFailure",
                    "containers": [{
                        "name": "migrate", "image": f"confide/{m.name}",  # the service's own image holds its migrations
                        "command": ["confide-migrate", m.name],
                        "envFrom": env_from_config(), "env": service_env(m, identity),
                        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                                      "limits": {"cpu": "1", "memory": "512Mi"}},
                        "securityContext": SECURITY,
                        "volumeMounts": [CA_MOUNT],
                    }],
                    "volumes": [CA_VOLUME],
                },
            },
        },
    }


def deployment(m: ServiceManifest) -> dict:
    requests_, limits = RESOURCES.get(m.name, DEFAULT_RESOURCES)
    ports = [{"name": "probes", "containerPort": PROBE_PORT}]
    env = [*service_env(m, m.name),
           {"name": "AMQP_URI", "value": f"amqps://confide-{m.name}@$(RABBITMQ_HOST):5671/"},
           {"name": "AMQP_PASSWORD_FILE", "value": "/var/run/secrets/confide/amqp/password"},
           {"name": "CONFIDE_HEALTH_ADDRESS", "value": f"0.0.0.0:{PROBE_PORT}"},
           {"name": "OTEL_SERVICE_NAME", "value": m.name}]
    if m.name in HTTP_PORTS:
        ports.append({"name": "http", "containerPort": HTTP_PORTS[m.name]})
        env.append({"name": "CONFIDE_WEB_SERVER_ADDRESS", "value": f"0.0.0.0:{HTTP_PORTS[m.name]}"})
    probe = {"httpGet": {"path": "/healthz", "port": "probes"}, "periodSeconds": 10, "timeoutSeconds": 3,
             "failureThreshold": 3}
    container = {
        "name": m.name, "image": f"confide/{m.name}", "ports": ports,
        "envFrom": env_from_config(), "env": env,
        "resources": {"requests": requests_, "limits": limits},
        "startupProbe": {**probe, "failureThreshold": 30},
        "livenessProbe": probe,
        "readinessProbe": {**probe, "httpGet": {"path": "/readyz", "port": "probes"}, "timeoutSeconds": 6},
        "securityContext": SECURITY,
        "volumeMounts": [{"name": "amqp", "mountPath": "/var/run/secrets/confide/amqp", "readOnly": True},
                         {"name": "tmp", "mountPath": "/tmp"}, CA_MOUNT],  # noqa: S108 - an emptyDir (read-only root)
    }
    wait = {
        "name": "wait-for-migrations", "image": f"confide/{m.name}",
        "command": ["confide-migrate", m.name, "--wait", "--timeout", "900"],
        "envFrom": env_from_config(), "env": service_env(m, m.name),
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "securityContext": SECURITY,
        "volumeMounts": [CA_MOUNT],
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": m.name, "labels": labels(m.name)},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {LABEL: m.name, "app.kubernetes.io/component": "service"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels(m.name)},
                "spec": {
                    "serviceAccountName": f"confide-{m.name}",
                    "securityContext": {"runAsNonRoot": True, "fsGroup": 10001},
                    "terminationGracePeriodSeconds": 45,  # nameko finishes its workers on SIGTERM
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": {LABEL: m.name}}}],
                    "initContainers": [wait],
                    "containers": [container],
                    "volumes": [{"name": "amqp", "secret": {"secretName": f"confide-{m.name}-amqp",
                                                            "items": [{"key": "password", "path": "password"}]}},
                                {"name": "tmp", "emptyDir": {}}, CA_VOLUME],
                },
            },
        },
    }


def disruption_budget(m: ServiceManifest) -> dict:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": m.name, "labels": labels(m.name)},
            "spec": {"maxUnavailable": 1,
                     "selector": {"matchLabels": {LABEL: m.name, "app.kubernetes.io/component": "service"}}}}


def autoscaler(m: ServiceManifest) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": m.name, "labels": labels(m.name)},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": m.name},
                     "minReplicas": 2, "maxReplicas": 6,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}}


def network_policy(m: ServiceManifest) -> dict:
    egress = [{"to": [{**INFRA, "podSelector": {"matchLabels": {LABEL: name}}}],
               "ports": [{"protocol": "TCP", "port": port}]} for name, port in DEPENDENCIES]
    egress.append({"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                   "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]})
    ingress = [{"ports": [{"protocol": "TCP", "port": PROBE_PORT}]}]  # (the kubelet's probes)
    if m.name == "audit":  # (it offers each checkpoint to the witness)
        egress.append({"to": [{"podSelector": {"matchLabels": {LABEL: "witness"}}}],
                       "ports": [{"protocol": "TCP", "port": HTTP_PORTS["witness"]}]})
    if m.name == "witness":  # the audit service submits; monitors read through the ingress
        ingress.append({"from": [{"podSelector": {"matchLabels": {LABEL: "audit"}}},
                                 {"namespaceSelector": {"matchLabels": {
                                     "kubernetes.io/metadata.name": "ingress-nginx"}}}],
                        "ports": [{"protocol": "TCP", "port": HTTP_PORTS["witness"]}]})
    if m.name == "gateway":  # the only way in: from the ingress controller
        # and the identity provider's JWKS (an https URL outside the cluster)
        egress.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12",
                                                                          "192.168.0.0/16"]}}],
                       "ports": [{"protocol": "TCP", "port": 443}]})
        ingress.append({"from": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "ingress-nginx"}}}], "ports": [{"protocol": "TCP", "port": 8000}]})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": m.name, "labels": labels(m.name)},
            "spec": {"podSelector": {"matchLabels": {LABEL: m.name}}, "policyTypes": ["Ingress", "Egress"],
                     "ingress": ingress, "egress": egress}}


def common() -> list[dict]:
    deny = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "labels": PART_OF},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "confide", "labels": PART_OF},
              "data": {"VAULT_ADDR": "https://openbao.confide-infra.svc:8200", "VAULT_CACERT": CA,
                       "POSTGRES_HOST": "postgresql.confide-infra.svc",
                       "RABBITMQ_HOST": "rabbitmq.confide-infra.svc", "AMQP_CACERT": CA,
                       "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel-collector.confide-infra.svc:4318",
                       "OTEL_EXPORTER_OTLP_CERTIFICATE": CA,
                       # the shared exchanges are the broker definitions'; services check, never change, them
                       "CONFIDE_BROKER_EXCHANGES": "provisioned",
                       "CONFIDE_GATEWAY_JWKS": "https://idp.example.org/.well-known/jwks.json",
                       "CONFIDE_GATEWAY_ISSUER": "https://idp.example.org/",
                       "CONFIDE_GATEWAY_AUDIENCE": "confide",
                       # who witnesses the trail: pinned by the operator from the bootstrap's output
                       # (confide-bootstrap --witness-url http://witness.<namespace>.svc prints both)
                       "CONFIDE_WITNESS_LOGS": "[]", "CONFIDE_AUDIT_WITNESSES": "[]"}}
    bootstrap = {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "bootstrap", "labels": labels("bootstrap", "bootstrap"),
                     "annotations": {"argocd.argoproj.io/sync-wave": "-2", "argocd.argoproj.io/hook": "Sync"}},
        "spec": {"backoffLimit": 6, "ttlSecondsAfterFinished": 86400, "template": {
            "metadata": {"labels": labels("bootstrap", "bootstrap")},
            "spec": {"serviceAccountName": "confide-bootstrap", "restartPolicy": "OnFailure", "containers": [{
                "name": "bootstrap", "image": "confide/platform",  # the image that holds every service
                "command": ["confide-bootstrap", "--admin-database-url-file", "/var/run/secrets/confide/admin/url",
                            "--vault-token-file", "/var/run/secrets/confide/admin/vault-token",
                            "--kubernetes-host", "https://kubernetes.default.svc",
                            "--kubernetes-namespace", "$(POD_NAMESPACE)",
                            "--witness-url", "http://witness.$(POD_NAMESPACE).svc"],
                "envFrom": env_from_config(),
                "env": [{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                              "limits": {"cpu": "1", "memory": "512Mi"}},
                "securityContext": SECURITY,
                # made once at install time by the operator (never in git): the admin URL (with
                # sslmode=verify-full&sslrootcert=/etc/confide/ca/ca.crt) and a Vault token that may configure
                # Vault; revoke the token afterwards
                "volumeMounts": [{"name": "admin", "mountPath": "/var/run/secrets/confide/admin", "readOnly": True},
                                 CA_MOUNT],
            }], "volumes": [{"name": "admin", "secret": {"secretName": "confide-bootstrap"}}, CA_VOLUME]}}}}
    bootstrap_policy = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "bootstrap-and-migrations", "labels": PART_OF},
        "spec": {"podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/component", "operator": "In",
                                                        "values": ["bootstrap", "migration"]}]},
                 "policyTypes": ["Ingress", "Egress"], "ingress": [],
                 "egress": [*[{"to": [{**INFRA, "podSelector": {"matchLabels": {LABEL: name}}}],
                               "ports": [{"protocol": "TCP", "port": port}]}
                              for name, port in DEPENDENCIES if name in ("postgresql", "openbao")],
                            {"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                             "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}}
    services = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels(name)},
                 "spec": {"selector": {LABEL: name, "app.kubernetes.io/component": "service"},
                          "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}} for name in HTTP_PORTS]
    return [deny, bootstrap_policy, config, service_account("confide-bootstrap"), bootstrap, *services]


def per_service(m: ServiceManifest) -> list[dict]:
    objects = [service_account(f"confide-{m.name}"), service_account(f"confide-{m.name}-migrate"),
               migration_job(m), deployment(m), disruption_budget(m), network_policy(m)]
    if m.name not in STATEFUL:
        objects.append(autoscaler(m))
    return objects


def render() -> dict[str, str]:
    """File name -> YAML text of infra/k8s/base."""
    manifests = discover()
    header = "# generated by infra/k8s/generate.py from the services' manifests; edit that, not this\n"
    files = {"common.yaml": header + yaml.safe_dump_all(common(), sort_keys=False)}
    for m in manifests:
        files[f"{m.name}.yaml"] = header + yaml.safe_dump_all(per_service(m), sort_keys=False)
    files["kustomization.yaml"] = header + yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "labels": [{"pairs": PART_OF}],
        "resources": sorted(name for name in files if name != "kustomization.yaml"),
    }, sort_keys=False)
    return files


def main() -> int:
    BASE.mkdir(exist_ok=True)
    for name, text in render().items():
        (BASE / name).write_text(text)
    print(f"wrote {BASE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
