"""``confide-bootstrap``: what a deployment needs before its services start,
the same code for ``make run``, the compose ``bootstrap`` job and the
cluster's bootstrap Job.

1. each installed service's database and roles (``provision.prepare_database``);
2. Vault (``confide_vault.bootstrap``): transit keys, a dynamic database role
   per service and per service's migrations, a policy per identity, AppRoles
   (ids written to ``--approle-dir``) and, with ``--kubernetes-host``, Kubernetes
   auth roles bound to each identity's ServiceAccount.

Migrations run afterwards, one per service (``confide-migrate NAME``), with the
owner credentials Vault now issues.

Settings: ``CONFIDE_ADMIN_DATABASE_URL`` (or ``--admin-database-url-file``: a
PostgreSQL admin, for creating databases and for Vault's database engine),
``VAULT_ADDR`` and ``VAULT_TOKEN`` (or ``--vault-token-file``: a token that may
configure Vault; the bootstrap's only).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import hvac
from confide_vault.bootstrap import KubernetesAuth, bootstrap

from confide_runtime.manifest import ServiceManifest, discover
from confide_runtime.provision import admin_connection, prepare_database


def provision_all(admin_url: str, vault: hvac.Client, manifests: list[ServiceManifest], prefix: str,
                  approle_dir: Path | None = None, kubernetes: KubernetesAuth | None = None,
                  vault_database_host: str | None = None, say=print) -> tuple[dict[str, str], dict]:
    """Databases and Vault for ``manifests``: (database URL by service, AppRole ids by identity)."""
    urls = {}
    for manifest in manifests:
        say(f"database {manifest.database(prefix)}: roles and database")
        urls[manifest.name] = prepare_database(admin_url, manifest, prefix)
    say("Vault: transit keys, database roles, policies, AppRoles" + (", Kubernetes auth" if kubernetes else ""))
    connection = admin_connection(admin_url)
    if vault_database_host:  # (how Vault reaches PostgreSQL, where that differs from how we do)
        connection["pg_host"] = vault_database_host
    ids = bootstrap(vault, [m.vault_spec(prefix) for m in manifests], out_dir=approle_dir,
                    kubernetes=kubernetes, **connection)
    return urls, ids


def _secret(value: str | None, file: Path | None, what: str) -> str:
    if file is not None:
        return file.read_text().strip()
    if value:
        return value
    raise SystemExit(f"confide-bootstrap: missing {what}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="confide-bootstrap", description=__doc__.splitlines()[0])
    parser.add_argument("--admin-database-url-file", type=Path,
                        help="a file holding the PostgreSQL admin URL (else CONFIDE_ADMIN_DATABASE_URL)")
    parser.add_argument("--vault-token-file", type=Path, help="a file holding the Vault token (else VAULT_TOKEN)")
    parser.add_argument("--vault-database-host", help="how Vault reaches PostgreSQL, if not as we do")
    parser.add_argument("--database-prefix", default=os.environ.get("CONFIDE_DATABASE_PREFIX", "confide"))
    parser.add_argument("--approle-dir", type=Path, help="write each identity's AppRole ids here (<identity>.env)")
    parser.add_argument("--kubernetes-host", help="enable Kubernetes auth against this API server")
    parser.add_argument("--kubernetes-namespace", default="confide")
    parser.add_argument("--kubernetes-ca-file", type=Path, help="the cluster's CA (when Vault runs outside it)")
    args = parser.parse_args(argv)
    admin_url = _secret(os.environ.get("CONFIDE_ADMIN_DATABASE_URL"), args.admin_database_url_file,
                        "the admin database URL (CONFIDE_ADMIN_DATABASE_URL or --admin-database-url-file)")
    token = _secret(os.environ.get("VAULT_TOKEN"), args.vault_token_file,
                    "a Vault token (VAULT_TOKEN or --vault-token-file)")
    addr = os.environ.get("VAULT_ADDR") or sys.exit("confide-bootstrap: missing setting VAULT_ADDR")
    kubernetes = None
    if args.kubernetes_host:
        kubernetes = KubernetesAuth(host=args.kubernetes_host, namespace=args.kubernetes_namespace,
                                    ca_cert=args.kubernetes_ca_file.read_text() if args.kubernetes_ca_file else None)
    manifests = discover()
    provision_all(admin_url, hvac.Client(url=addr, token=token), manifests, args.database_prefix,
                  args.approle_dir, kubernetes, args.vault_database_host,
                  say=lambda line: print(f"==> {line}", flush=True))
    print(f"confide-bootstrap: ready for {', '.join(m.name for m in manifests)}; "
          "now run confide-migrate for each", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
