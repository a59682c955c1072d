"""Set up a development Vault (OpenBao) for Confide: engines, keys, database
roles, policies and one AppRole per service.

Idempotent: running it again changes nothing that is already there, except that
each service gets a fresh AppRole secret id written to ``<out>/<service>.env``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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

    @property
    def group_role(self) -> str:
        return self.app_role or f"{self.name}_app"


def creation_statements(group_role: str) -> list[str]:
    return [
        "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' "
        f"VALID UNTIL '{{{{expiration}}}}' IN ROLE \"{group_role}\";",
    ]


REVOCATION_STATEMENTS = [
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}';",
    'DROP ROLE IF EXISTS "{{name}}";',
]


def policy_for(spec: ServiceSpec, transit: str, database: str) -> str:
    rules = [f'path "{database}/creds/{spec.name}" {{ capabilities = ["read"] }}']
    for key in spec.encryption_keys:
        for op in ("encrypt", "decrypt", "rewrap"):
            rules.append(f'path "{transit}/{op}/{key}" {{ capabilities = ["update"] }}')
        rules.append(f'path "{transit}/keys/{key}" {{ capabilities = ["read"] }}')
    for key in spec.signing_keys:
        for op in ("sign", "verify"):
            rules.append(f'path "{transit}/{op}/{key}" {{ capabilities = ["update"] }}')
        rules.append(f'path "{transit}/keys/{key}" {{ capabilities = ["read"] }}')
    rules.append('path "auth/token/renew-self" { capabilities = ["update"] }')
    rules.append('path "auth/token/lookup-self" { capabilities = ["read"] }')
    rules.append('path "sys/leases/renew" { capabilities = ["update"] }')
    rules.append('path "sys/leases/revoke" { capabilities = ["update"] }')
    return "\n".join(rules) + "\n"


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
    out_dir: Path | None = None,
    transit_mount: str = TRANSIT_MOUNT,
    database_mount: str = DATABASE_MOUNT,
    approle_mount: str = APPROLE_MOUNT,
    lease_ttl: str = "1h",
    max_lease_ttl: str = "24h",
) -> dict[str, dict[str, str]]:
    """Configure Vault for ``services``; returns each service's AppRole ids."""
    ensure_engine(client, "transit", transit_mount)
    ensure_engine(client, "database", database_mount)
    if f"{approle_mount}/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("approle", path=approle_mount)

    credentials: dict[str, dict[str, str]] = {}
    for spec in services:
        for key in spec.encryption_keys:
            ensure_transit_key(client, key, "aes256-gcm96", transit_mount)
        for key in spec.signing_keys:
            ensure_transit_key(client, key, "ed25519", transit_mount)
        client.secrets.database.configure(
            name=spec.name,
            plugin_name="postgresql-database-plugin",
            allowed_roles=[spec.name],
            connection_url=f"postgresql://{{{{username}}}}:{{{{password}}}}@{pg_host}:{pg_port}/{spec.database}?sslmode=disable",
            username=pg_admin_user,
            password=pg_admin_password or "unused-with-trust-auth",
            verify_connection=True,
            mount_point=database_mount,
        )
        client.secrets.database.create_role(
            name=spec.name,
            db_name=spec.name,
            creation_statements=creation_statements(spec.group_role),
            revocation_statements=REVOCATION_STATEMENTS,
            default_ttl=lease_ttl,
            max_ttl=max_lease_ttl,
            mount_point=database_mount,
        )
        client.sys.create_or_update_policy(
            name=f"confide-{spec.name}", policy=policy_for(spec, transit_mount, database_mount)
        )
        client.auth.approle.create_or_update_approle(
            spec.name,
            token_policies=[f"confide-{spec.name}"],
            token_ttl="1h",
            token_max_ttl="24h",
            mount_point=approle_mount,
        )
        role_id = client.auth.approle.read_role_id(spec.name, mount_point=approle_mount)["data"]["role_id"]
        secret_id = client.auth.approle.generate_secret_id(spec.name, mount_point=approle_mount)["data"]["secret_id"]
        credentials[spec.name] = {"VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret_id}
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / f"{spec.name}.env"
            path.write_text(f"VAULT_ROLE_ID={role_id}\nVAULT_SECRET_ID={secret_id}\n")
            path.chmod(0o600)
    return credentials

