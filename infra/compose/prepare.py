"""`make up`, before compose: the secrets docker-compose.yml reads, in .secrets/
(outside git). Made once and kept: a random PostgreSQL password and a broker
password per service; the admin database URL (over TLS, the server's name
checked); the broker definitions with those passwords hashed in; the stack's
own CA and a certificate for each server (``tls/``: OpenBao, RabbitMQ,
PostgreSQL, the trace collector), which every client pins. (Tokens come from
the clinic network's identity provider: CONFIDE_GATEWAY_ISSUER and
CONFIDE_GATEWAY_JWKS.)"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

from confide_runtime.broker import definitions, with_passwords
from confide_runtime.manifest import discover
from confide_runtime.tls import LocalCA

CA_IN_CONTAINERS = "/run/secrets/confide-ca"
# each server's certificate: the name the others reach it by, and how the host reaches it
SERVERS = {"openbao": ("openbao", "127.0.0.1", "localhost"), "rabbitmq": ("rabbitmq", "127.0.0.1", "localhost"),
           "postgres": ("postgres",), "jaeger": ("jaeger",)}


def keep(path: Path, make) -> str:
    if not path.exists():
        path.write_text(make() + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def main(folder: str = ".secrets") -> int:
    out = Path(folder)
    out.mkdir(mode=0o700, exist_ok=True)
    password = keep(out / "postgres-password", lambda: secrets.token_urlsafe(24))
    (out / "admin-database-url").write_text(f"postgresql://postgres:{password}@postgres:5432/postgres"
                                            f"?sslmode=verify-full&sslrootcert={CA_IN_CONTAINERS}\n")
    (out / "admin-database-url").chmod(0o600)
    ca = LocalCA(out / "tls", name="Confide compose CA")
    for server, names in SERVERS.items():
        _, key = ca.issue(server, names)
        # (each key is read by its server's own user in its container: readable, inside .secrets/ (0700);
        # PostgreSQL's is copied to a 0600 file of its own first)
        key.chmod(0o644)
    for name in [m.name for m in discover()] + ["admin"]:
        keep(out / f"amqp-{name}", lambda: secrets.token_urlsafe(24))
    (out / "rabbitmq-definitions.json").write_text(json.dumps(with_passwords(definitions(), out), indent=2))
    (out / "rabbitmq-definitions.json").chmod(0o644)  # (read by the broker's own user; holds hashes only)
    print(f"==> compose secrets in {out}/ (broker UI: confide-admin / {out}/amqp-admin)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
