"""Vault (OpenBao) for Confide, as code: the transit engine and keys, the
database engine with one dynamic role per service (and one per service's
migrations), a policy per identity granting only what it needs, and logins:
an AppRole per identity (make run, compose) and, for a cluster, a Kubernetes
auth role per identity bound to its ServiceAccount. ``make run``, the compose
bootstrap job and the cluster's bootstrap Job all run this (``confide-bootstrap``).

Idempotent: running it again changes nothing that is already there, except that
each identity gets a fresh AppRole secret id written to ``<out>/<identity>.env``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import hvac

TRANSIT_MOUNT = "transit"
DATABASE_MOUNT = "database"
APPROLE_MOUNT = "approle"


@dataclass(frozen=True)
class ServiceSpec:
    """What one service may use in Vault."""

    name: str
    database: str
    encryption_keys: tuple[str, ...] = ()
    signing_keys: tuple[str, ...] = ()
    app_role: str = field(default="")  # PostgreSQL group role the dynamic users join
    # PostgreSQL role that owns the service's schema; when set, a second identity
    # ``<name>-migrate`` may get credentials that act as it (for migrations only)
    owner_role: str = ""

    @property
    def group_role(self) -> str:
        return self.app_role or f"{self.name}_app"

    @property
    def migrator(self) -> str:
        return f"{self.name}-migrate"


@dataclass(frozen=True)
class KubernetesAuth:
    """Kubernetes auth for a cluster: each service's pods log in with their
    ServiceAccount ``confide-<service>`` (migration Jobs: ``confide-<service>-migrate``)."""

    host: str  # the API server, as Vault reaches it
    namespace: str
    ca_cert: str | None = None  # PEM; None inside a cluster where Vault runs as a pod
    mount: str = "kubernetes"


def creation_statements(group_role: str) -> list[str]:
    return [
        "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' "
        f"VALID UNTIL '{{{{expiration}}}}' IN ROLE \"{group_role}\";",
    ]


def migrator_statements(owner_role: str) -> list[str]:
    """A short-lived user whose sessions act as the schema owner, so that what a
    migration creates belongs to the owner and the user can be dropped after."""
    return [
        "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' "
        f"VALID UNTIL '{{{{expiration}}}}' IN ROLE \"{owner_role}\";",
        f"ALTER ROLE \"{{{{name}}}}\" SET role = '{owner_role}';",
    ]


REVOCATION_STATEMENTS = [
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}';",
    'DROP ROLE IF EXISTS "{{name}}";',
]


TOKEN_RULES = [
    'path "auth/token/renew-self" { capabilities = ["update"] }',
    'path "auth/token/lookup-self" { capabilities = ["read"] }',
]


def credential_rules(database: str, role: str) -> list[str]:
    """Issue, renew and revoke this role's database credentials -- its own leases only."""
    return [
        f'path "{database}/creds/{role}" {{ capabilities = ["read"] }}',
        f'path "sys/leases/renew/{database}/creds/{role}/*" {{ capabilities = ["update"] }}',
        f'path "sys/leases/revoke/{database}/creds/{role}/*" {{ capabilities = ["update"] }}',
    ]


def migrator_policy_for(spec: ServiceSpec, database: str) -> str:
    """A migration Job's policy: the owner's credentials for this one database, nothing else."""
    return "\n".join([*credential_rules(database, spec.migrator), *TOKEN_RULES]) + "\n"


def policy_for(spec: ServiceSpec, transit: str, database: str) -> str:
    rules = credential_rules(database, spec.name)
    for key in spec.encryption_keys:
        for op in ("encrypt", "decrypt", "rewrap"):
            rules.append(f'path "{transit}/{op}/{key}" {{ capabilities = ["update"] }}')
        rules.append(f'path "{transit}/keys/{key}" {{ capabilities = ["read"] }}')
    for key in spec.signing_keys:
        for op in ("sign", "verify"):
            rules.append(f'path "{transit}/{op}/{key}" {{ capabilities = ["update"] }}')
        rules.append(f'path "{transit}/keys/{key}" {{ capabilities = ["read"] }}')
    # certify its own caller assertions; read every identity's public key to verify theirs
    rules.append(f'path "{transit}/sign/{caller_key(spec.name)}" {{ capabilities = ["update"] }}')
    rules.append(f'path "{transit}/keys/{caller_key("*")}" {{ capabilities = ["read"] }}')
    rules.extend(TOKEN_RULES)
    return "\n".join(rules) + "\n"


def caller_key(identity: str) -> str:
    """The transit key that certifies ``identity``'s caller assertions (``confide_access.assertions``)."""
    return f"caller-{identity}"


def _mounts(client: hvac.Client) -> set[str]:
    return {path.rstrip("/") for path in client.sys.list_mounted_secrets_engines()["data"]}


def ensure_engine(client: hvac.Client, kind: str, path: str) -> None:
    if path not in _mounts(client):
        client.sys.enable_secrets_engine(backend_type=kind, path=path)


def ensure_transit_key(client: hvac.Client, name: str, key_type: str, mount: str) -> None:
    try:
        client.secrets.transit.read_key(name, mount_point=mount)
    except hvac.exceptions.InvalidPath:
        client.secrets.transit.create_key(name, key_type=key_type, mount_point=mount)


def bootstrap(
    client: hvac.Client,
    services: list[ServiceSpec],
    *,
    pg_host: str = "127.0.0.1",
    pg_port: int = 5432,
    pg_admin_user: str = "postgres",
    pg_admin_password: str = "",
    pg_tls: dict[str, str] | None = None,
    out_dir: Path | None = None,
    transit_mount: str = TRANSIT_MOUNT,
    database_mount: str = DATABASE_MOUNT,
    approle_mount: str = APPROLE_MOUNT,
    lease_ttl: str = "1h",
    max_lease_ttl: str = "24h",
    kubernetes: KubernetesAuth | None = None,
) -> dict[str, dict[str, str]]:
    """Configure Vault for ``services``; returns each identity's AppRole ids
    (``<service>`` and, where the spec names an owner, ``<service>-migrate``)."""
    ensure_engine(client, "transit", transit_mount)
    ensure_engine(client, "database", database_mount)
    methods = client.sys.list_auth_methods()["data"]
    if f"{approle_mount}/" not in methods:
        client.sys.enable_auth_method("approle", path=approle_mount)
    if kubernetes is not None:
        if f"{kubernetes.mount}/" not in methods:
            client.sys.enable_auth_method("kubernetes", path=kubernetes.mount)
        client.write(f"auth/{kubernetes.mount}/config", kubernetes_host=kubernetes.host,
                     # outside the cluster, Vault is told the cluster's CA instead of reading its pod's own
                     **({"kubernetes_ca_cert": kubernetes.ca_cert, "disable_local_ca_jwt": True}
                        if kubernetes.ca_cert else {}))

    # how Vault's driver reaches PostgreSQL: as the admin URL says (sslmode=verify-full and the CA, in
    # compose and the cluster; the CA's path as Vault's own process sees it)
    tls = urlencode(pg_tls or {"sslmode": "disable"})
    credentials: dict[str, dict[str, str]] = {}
    for spec in services:
        for key in spec.encryption_keys:
            ensure_transit_key(client, key, "aes256-gcm96", transit_mount)
        for key in (*spec.signing_keys, caller_key(spec.name)):
            ensure_transit_key(client, key, "ed25519", transit_mount)
        client.secrets.database.configure(
            name=spec.name,
            plugin_name="postgresql-database-plugin",
            allowed_roles=[spec.name, spec.migrator],
            connection_url=f"postgresql://{{{{username}}}}:{{{{password}}}}@{pg_host}:{pg_port}/{spec.database}?{tls}",
            username=pg_admin_user,
            password=pg_admin_password or "unused-with-trust-auth",
            verify_connection=True,
            mount_point=database_mount,
        )
        identities = [(spec.name, creation_statements(spec.group_role), policy_for(spec, transit_mount,
                                                                                  database_mount))]
        if spec.owner_role:
            identities.append((spec.migrator, migrator_statements(spec.owner_role),
                               migrator_policy_for(spec, database_mount)))
        for identity, statements, policy in identities:
            client.secrets.database.create_role(
                name=identity,
                db_name=spec.name,
                creation_statements=statements,
                revocation_statements=REVOCATION_STATEMENTS,
                default_ttl=lease_ttl,
                max_ttl=max_lease_ttl,
                mount_point=database_mount,
            )
            client.sys.create_or_update_policy(name=f"confide-{identity}", policy=policy)
            client.auth.approle.create_or_update_approle(
                identity,
                token_policies=[f"confide-{identity}"],
                token_no_default_policy=True,  # (Vault's default policy would let it renew any lease)
                token_ttl="1h",
                token_max_ttl="24h",
                mount_point=approle_mount,
            )
            if kubernetes is not None:
                client.write(f"auth/{kubernetes.mount}/role/{identity}",
                             bound_service_account_names=[f"confide-{identity}"],
                             bound_service_account_namespaces=[kubernetes.namespace],
                             token_policies=[f"confide-{identity}"], token_no_default_policy=True,
                             token_ttl="1h", token_max_ttl="24h")
            role_id = client.auth.approle.read_role_id(identity, mount_point=approle_mount)["data"]["role_id"]
            secret_id = client.auth.approle.generate_secret_id(identity, mount_point=approle_mount)["data"][
                "secret_id"]
            credentials[identity] = {"VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret_id}
            if out_dir is not None:
                out_dir.mkdir(parents=True, exist_ok=True)
                path = out_dir / f"{identity}.env"
                path.write_text(f"VAULT_ROLE_ID={role_id}\nVAULT_SECRET_ID={secret_id}\n")
                path.chmod(0o600)
    return credentials

