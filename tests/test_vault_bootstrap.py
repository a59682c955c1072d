"""Vault as code, against a real OpenBao: the bootstrap every deployment runs
(``make run``, the compose job, the cluster's Job) configures every installed
service; each service logs in with its AppRole and gets what its policy grants
and nothing else; a migration identity gets owner credentials for its one
database and nothing else; Kubernetes auth roles are bound to each
identity's ServiceAccount."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import hvac
import psycopg
import pytest
from confide_runtime.manifest import discover
from confide_testing import random_id
from confide_vault import DynamicDatabaseCredentials, Transit, VaultClient, VaultError
from confide_vault.bootstrap import KubernetesAuth, bootstrap
from confide_vault.client import AppRole
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from psycopg import sql


def cluster_ca() -> str:
    """A cluster's CA certificate, as an operator passes it when Vault runs outside the cluster."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
def bootstrapped(dev_vault, vault_client, vault_mount, database_factory):
    url = database_factory.create("vaultboot")
    database = url.rsplit("/", 1)[1]
    prefix = random_id("vb").replace("-", "_")
    manifests = {m.name: m for m in discover()}
    records = manifests["records"]
    admin = database_factory.admin_url
    conninfo = dict(host=admin.host, port=admin.port or 5432, user=admin.username, autocommit=True)
    roles = (records.owner_role(prefix), records.group_role(prefix))
    with psycopg.connect(dbname="postgres", **conninfo) as conn:
        for role in roles:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database),
                                                                     sql.Identifier(roles[0])))
    mounts = {"transit_mount": vault_mount("transit"), "database_mount": vault_mount("database"),
              "approle_mount": random_id("approle").replace("-", "_")}
    kubernetes = KubernetesAuth(host="https://kubernetes.default.svc", namespace="confide",
                                ca_cert=cluster_ca(), mount=random_id("k8s").replace("-", "_"))
    specs = [replace(m.vault_spec(prefix), database=database) for m in manifests.values()]
    ids = bootstrap(vault_client.hvac, specs, kubernetes=kubernetes, lease_ttl="120s", **mounts)
    yield {"ids": ids, "mounts": mounts, "kubernetes": kubernetes, "specs": {s.name: s for s in specs},
           "database": database, "url": url, "roles": roles}
    system = vault_client.hvac.sys
    for mount in (mounts["approle_mount"], kubernetes.mount):
        system.disable_auth_method(mount)
    for identity in ids:
        system.delete_policy(f"confide-{identity}")
    system.disable_secrets_engine(mounts["database_mount"])  # (revokes the leases: the users are dropped)
    with psycopg.connect(dbname="postgres", **conninfo) as conn:
        database_factory.drop(database)
        for role in roles:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def login(dev_vault, setup, identity) -> VaultClient:
    ids = setup["ids"][identity]
    return VaultClient(dev_vault.addr, approle=AppRole(ids["VAULT_ROLE_ID"], ids["VAULT_SECRET_ID"],
                                                       setup["mounts"]["approle_mount"]), ca_cert=dev_vault.ca)


def test_each_service_gets_its_own_keys_and_credentials_and_nothing_else(dev_vault, bootstrapped):
    setup, transit_mount = bootstrapped, bootstrapped["mounts"]["transit_mount"]
    specs = setup["specs"]
    assert set(setup["ids"]) == {n for s in specs.values() for n in (s.name, s.migrator)}
    every_key = {k for s in specs.values() for k in (*s.encryption_keys, *s.signing_keys)}
    # (the witness's cosigning key among them: no audit identity may sign with it)
    assert {"record-notes", "psychotherapy-notes", "audit-checkpoints", "witness-cosigning"} <= every_key
    for name, spec in specs.items():
        client = login(dev_vault, setup, name)
        transit = Transit(client, transit_mount)
        for key in spec.encryption_keys:
            assert transit.decrypt(key, transit.encrypt(key, b"x")) == b"x"
        for key in spec.signing_keys:
            assert transit.verify(key, b"x", transit.sign(key, b"x"))
        for key in every_key - set(spec.encryption_keys) - set(spec.signing_keys):
            with pytest.raises(VaultError):
                transit.encrypt(key, b"x")
            with pytest.raises(VaultError):
                transit.sign(key, b"x")
        for other in (*(s for s in specs if s != name), spec.migrator):
            with pytest.raises(hvac.exceptions.Forbidden):
                client.hvac.secrets.database.generate_credentials(other, mount_point=setup["mounts"]["database_mount"])
        # a migration identity: owner credentials for its database, no keys, no service credentials
        migrator = login(dev_vault, setup, spec.migrator)
        with pytest.raises(hvac.exceptions.Forbidden):
            migrator.hvac.secrets.database.generate_credentials(name, mount_point=setup["mounts"]["database_mount"])
        for key in every_key:  # (audit-migrate, which owns the trail's tables, cannot sign a checkpoint)
            with pytest.raises(VaultError):
                Transit(migrator, transit_mount).encrypt(key, b"x")
            with pytest.raises(VaultError):
                Transit(migrator, transit_mount).sign(key, b"x")


def test_the_service_user_cannot_change_the_schema_and_the_migrator_acts_as_its_owner(dev_vault, bootstrapped):
    setup = bootstrapped
    owner, group = setup["roles"]
    mount = setup["mounts"]["database_mount"]

    def session(identity):
        creds = DynamicDatabaseCredentials(login(dev_vault, setup, identity), identity, mount=mount)
        user, password = creds.current()
        return creds, psycopg.connect(setup["url"].replace("+psycopg", ""), user=user, password=password,
                                      autocommit=True)

    migrator_creds, migrator = session("records-migrate")
    with migrator:
        assert migrator.execute("SELECT current_user").fetchone()[0] == owner
        migrator.execute("CREATE TABLE clients (id int PRIMARY KEY)")
        migrator.execute(sql.SQL("GRANT SELECT, INSERT ON clients TO {}").format(sql.Identifier(group)))
        assert migrator.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'clients'").fetchone()[0] == owner
    migrator_creds.close(revoke=True)  # the migrator's user goes; what it made stays, the owner's

    service_creds, service = session("records")
    # another service can neither renew nor revoke records' lease; records can renew its own
    billing, lease = login(dev_vault, setup, "billing").hvac, service_creds.lease.lease_id
    for attempt in (lambda: billing.adapter.put(f"/v1/sys/leases/renew/{lease}"),
                    lambda: billing.adapter.put(f"/v1/sys/leases/revoke/{lease}"),
                    lambda: billing.sys.renew_lease(lease_id=lease),  # (the default policy would allow this)
                    lambda: billing.sys.revoke_lease(lease_id=lease)):
        with pytest.raises(hvac.exceptions.Forbidden):
            attempt()
    assert service_creds.renew() > 0
    with service:
        service.execute("INSERT INTO clients VALUES (1)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            service.execute("DROP TABLE clients")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            service.execute("CREATE TABLE sneaky (id int)")
    service_creds.close(revoke=True)


def test_kubernetes_auth_binds_each_identity_to_its_service_account(vault_client, bootstrapped):
    mount = bootstrapped["kubernetes"].mount
    assert vault_client.hvac.read(f"auth/{mount}/config")["data"]["kubernetes_host"] == \
        "https://kubernetes.default.svc"
    for identity in bootstrapped["ids"]:
        role = vault_client.hvac.read(f"auth/{mount}/role/{identity}")["data"]
        assert role["bound_service_account_names"] == [f"confide-{identity}"]
        assert role["bound_service_account_namespaces"] == ["confide"]
        assert role["token_policies"] == [f"confide-{identity}"] and role["token_no_default_policy"]


def test_a_pod_without_a_valid_service_account_token_is_refused(dev_vault, bootstrapped, tmp_path):
    settings = {"VAULT_ADDR": dev_vault.addr, "VAULT_CACERT": dev_vault.ca, "VAULT_K8S_ROLE": "records",
                "VAULT_K8S_MOUNT": bootstrapped["kubernetes"].mount}
    with pytest.raises(VaultError, match="cannot read the ServiceAccount token"):
        VaultClient.from_env({**settings, "VAULT_K8S_TOKEN_PATH": str(tmp_path / "missing")})
    forged = tmp_path / "token"
    forged.write_text("eyJhbGciOiJub25lIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y29uZmlkZTpjb25maWRlLXJlY29yZHMifQ.")
    with pytest.raises(VaultError, match="Kubernetes login as records"):
        VaultClient.from_env({**settings, "VAULT_K8S_TOKEN_PATH": str(forged)})


def test_the_policies_kept_for_review_are_what_vault_holds(vault_client, bootstrapped):
    """infra/vault/policies: generated from the code, and equal to what the bootstrap applied."""
    from pathlib import Path

    from confide_runtime.bootstrap import policies

    folder = Path(__file__).parents[1] / "infra" / "vault" / "policies"
    expected = policies(discover())
    assert sorted(p.stem for p in folder.glob("*.hcl")) == sorted(f"confide-{i}" for i in expected), (
        "infra/vault/policies is out of date: uv run confide-bootstrap --write-policies infra/vault/policies")
    mounts = bootstrapped["mounts"]
    for identity, policy in expected.items():
        kept = (folder / f"confide-{identity}.hcl").read_text()
        assert kept.split("\n", 1)[1] == policy, identity  # (after its header line)
        applied = vault_client.hvac.sys.read_policy(f"confide-{identity}")["data"]["rules"]
        assert applied.replace(f'"{mounts["transit_mount"]}/', '"transit/').replace(
            f'"{mounts["database_mount"]}/', '"database/').replace(
            f'leases/renew/{mounts["database_mount"]}/', "leases/renew/database/").replace(
            f'leases/revoke/{mounts["database_mount"]}/', "leases/revoke/database/") == policy, identity
