"""``confide-stack up``: the whole platform on this machine, behind `make run`.

Starts OpenBao (its storage and unseal key in the state folder, over TLS:
``confide_runtime.local_vault``), creates each service's database and roles,
bootstraps Vault (engines, keys, policies, AppRoles), migrates each database
with owner credentials Vault issues for the purpose, starts every service in
its own process, loads the demo network, and stops all of it on Ctrl-C.
PostgreSQL and RabbitMQ are made sure of beforehand by
``infra/scripts/ensure-infra.sh``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import hvac
from confide_vault import VaultClient
from confide_vault.client import AppRole

from confide_runtime import oidc_dev, transparency
from confide_runtime.bootstrap import provision_all
from confide_runtime.broker import provision_logins
from confide_runtime.local_vault import LocalVault
from confide_runtime.manifest import ServiceManifest, discover
from confide_runtime.provision import migrate_with_vault

ADMIN_URL = os.environ.get("CONFIDE_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
VAULT_PORT = int(os.environ.get("CONFIDE_VAULT_PORT", "8200"))
# databases and roles are named <prefix>_<service>; tests use a random prefix
PREFIX = os.environ.get("CONFIDE_DATABASE_PREFIX", "confide")
SIGN_IN_AUDIENCE = "urn:confide:gateway"  # the gateway, as the OpenID provider's resource indicator
GATEWAY_ADDRESS = os.environ.get("CONFIDE_WEB_SERVER_ADDRESS", "127.0.0.1:8000")
WITNESS_ADDRESS = os.environ.get("CONFIDE_WITNESS_ADDRESS", "127.0.0.1:8010")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


class Stack:
    """The platform's processes on this machine: ``up`` for `make run`; ``start``,
    ``launch`` and ``stop`` for a harness that owns it (``bench.faults``)."""

    def __init__(self, state_dir: Path, *, prefix: str = PREFIX, amqp_uri: str = AMQP_URI,
                 vault_port: int = VAULT_PORT, web: str = GATEWAY_ADDRESS, witness: str = WITNESS_ADDRESS) -> None:
        self.state = state_dir
        self.state.mkdir(parents=True, exist_ok=True)
        self.prefix, self.amqp_uri, self.web, self.witness = prefix, amqp_uri, web, witness
        self.vault = LocalVault(self.state, vault_port)
        self.vault_addr = self.vault.addr
        self.processes: dict[str, subprocess.Popen] = {}
        self.environments: dict[str, dict[str, str]] = {}  # each service's, to start it again as it was
        self.probes: dict[str, str] = {}
        self.stopped = False

    # --- Vault ----------------------------------------------------------
    def start_vault(self) -> str:
        """OpenBao with its storage in the state folder, initialised once and
        unsealed at every start; the root token (also in ``vault-token``)."""
        token_file = self.state / "vault-token"
        if (self.vault.health() or {}).get("initialized") is not None and token_file.exists() \
                and self.vault.token_works(token_file.read_text().strip()):
            step(f"OpenBao already running at {self.vault_addr}")
            return token_file.read_text().strip()
        step(f"starting OpenBao at {self.vault_addr} (storage: {self.vault.folder / 'data'}, "
             f"log: {self.state / 'bao.log'})")
        self.processes["openbao"] = self.vault.start(self.state / "bao.log")
        token = self.vault.unseal(step)
        token_file.write_text(token)
        token_file.chmod(0o600)
        return token

    # --- services -------------------------------------------------------
    def start_sign_in(self) -> dict[str, str]:
        """The development OpenID provider with the demo's people (passwords in ``sign-in-people.txt``),
        and what the gateway is told to trust it by; nothing if Node.js is missing (``confide token``
        still signs scripts in)."""
        port = free_port()
        issuer = f"http://127.0.0.1:{port}"
        people = oidc_dev.demo_people()
        console, secret = f"http://{self.web}", secrets.token_urlsafe(32)
        try:
            step(f"starting the development OpenID provider at {issuer} (log: {self.state / 'oidc-dev.log'})")
            process, meta = oidc_dev.start(oidc_dev.configuration(issuer, port, SIGN_IN_AUDIENCE, people,
                                                                  console=(console, secret)), self.state)
        except oidc_dev.ProviderError as exc:
            print(f"warning: no sign-in through an OpenID provider: {exc}", file=sys.stderr)
            return {}
        self.processes["openid-provider"] = process
        (self.state / "sign-in.json").write_text(json.dumps({"issuer": issuer, "audience": SIGN_IN_AUDIENCE}))
        listing = self.state / "sign-in-people.txt"
        listing.touch(mode=0o600)
        listing.chmod(0o600)
        listing.write_text("".join(f"{p.username:<14} {p.password:<14} {' '.join(p.groups)}\n" for p in people))
        return {"CONFIDE_GATEWAY_TRUST": json.dumps([{"issuer": issuer, "jwks": meta["jwks_uri"],
                                                      "audience": SIGN_IN_AUDIENCE, "roles_claim": "groups"}]),
                "CONFIDE_CONSOLE_ISSUER": issuer, "CONFIDE_CONSOLE_CLIENT_SECRET": secret,
                "CONFIDE_CONSOLE_URL": console, "CONFIDE_CONSOLE_AUDIENCE": SIGN_IN_AUDIENCE}

    def start_service(self, manifest: ServiceManifest, database_url: str, vault_env: dict[str, str],
                      amqp_uri: str, extra: dict[str, str] | None = None) -> None:
        env = dict(os.environ)
        env.update(vault_env, AMQP_URI=amqp_uri, DATABASE_URL=database_url, VAULT_ADDR=self.vault_addr,
                   VAULT_CACERT=str(self.vault.ca), CONFIDE_BROKER_PRODUCER_USER=f"{self.prefix}-{{producer}}",
                   CONFIDE_BROKER_EXCHANGES="provisioned", **transparency.environment(self.state / "approles"))
        env.update(manifest.local_environment(self.state))
        if manifest.name in ("gateway", "witness"):  # each on the port this stack was given
            env["CONFIDE_WEB_SERVER_ADDRESS"] = self.web if manifest.name == "gateway" else self.witness
        env.update(extra or {})
        env.pop("VAULT_TOKEN", None)
        # each service's probes (/healthz, /readyz) on a free port, listed in probes.json
        env["CONFIDE_HEALTH_ADDRESS"] = self.probes[manifest.name] = f"127.0.0.1:{free_port()}"
        (self.state / "probes.json").write_text(json.dumps(self.probes, indent=2))
        self.environments[manifest.name] = env
        self.launch(manifest.name)

    def launch(self, name: str) -> subprocess.Popen:
        """Start a service's process with the environment it was first given (again, after it stopped)."""
        log = open(self.state / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "confide_runtime.serve", name],
            env=self.environments[name], stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()  # (the child has its own)
        return self.processes[name]

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                step(f"stopping {name}")
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()

    def up(self, demo: bool = True) -> int:
        """Start everything, then watch: a process that exits stops the platform."""
        try:
            self.start(demo)
            return self.watch()
        finally:
            self.stop()

    def start(self, demo: bool = True) -> None:
        manifests = discover()
        token = self.start_vault()
        client = hvac.Client(url=self.vault_addr, token=token, verify=str(self.vault.ca))
        # the same bootstrap as compose's job and the cluster's (confide-bootstrap)
        urls, ids = provision_all(ADMIN_URL, client, manifests, self.prefix, self.state / "approles", say=step,
                                  witness_url=f"http://{self.witness}")
        for manifest in manifests:
            step(f"migrating {manifest.name} (as its owner, with credentials from Vault)")
            identity = ids[f"{manifest.name}-migrate"]
            migrator = VaultClient(self.vault_addr, approle=AppRole(identity["VAULT_ROLE_ID"],
                                                                   identity["VAULT_SECRET_ID"]),
                                   ca_cert=str(self.vault.ca))
            migrate_with_vault(manifest, urls[manifest.name], migrator, self.prefix)
        if not manifests:
            step("no services are installed yet: infrastructure only")
        step(f"broker logins: one per service ({self.prefix}-<service>), each publishing and binding only its own")
        logins = provision_logins(self.amqp_uri, manifests, self.prefix, self.state / "broker")
        sign_in = self.start_sign_in() if any(m.name == "gateway" for m in manifests) else {}
        for manifest in manifests:
            step(f"starting {manifest.name} (log: {self.state / (manifest.name + '.log')})")
            self.start_service(manifest, urls[manifest.name], ids[manifest.name], logins[manifest.name],
                               sign_in if manifest.name == "gateway" else None)
        if demo:
            for manifest in manifests:
                try:
                    manifest.when_ready(self.state, step)
                except Exception as exc:  # noqa: BLE001 - the platform runs on without its demo data
                    print(f"warning: {manifest.name}'s start-up step failed: {exc}", file=sys.stderr)
        gateway = ""
        if any(m.name == "gateway" for m in manifests):
            gateway = (f"  Gateway:             http://{self.web}  (a token: uv run confide token --user dr-1 "
                       "--role clinician --site north)\n")
            if sign_in:
                gateway += ("  Sign in:             uv run confide login  (the demo's people and passwords: "
                            f"{self.state / 'sign-in-people.txt'})\n")
            gateway += ("  The trail so far:    export CONFIDE_TOKEN=$(uv run confide token --user co-1 "
                        "--role compliance_officer); uv run confide audit query\n")
        print(
            "\nConfide is running.\n"
            f"  Vault (OpenBao):     {self.vault_addr}  token in {self.state / 'vault-token'}, "
            f"CA {self.vault.ca}\n"
            f"  RabbitMQ:            {self.amqp_uri.split('@')[-1]}  one login per service ({self.prefix}-<service>, "
            f"passwords in {self.state / 'broker'}; management: http://127.0.0.1:15672)\n"
            f"  Services:            {', '.join(m.name for m in manifests) or 'none yet'}\n"
            + gateway + "Press Ctrl-C to stop everything.",
            flush=True,
        )

    def watch(self) -> int:
        try:
            while True:
                for name, process in self.processes.items():
                    if process.poll() is not None:
                        print(f"error: {name} exited with status {process.returncode}; "
                              f"see {self.state / (name + '.log')}", file=sys.stderr)
                        return 1
                time.sleep(1)
        except KeyboardInterrupt:
            print()
            return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="confide-stack", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--state", type=Path, default=Path(".run"), help="where logs and local state go")
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo network")
    args = parser.parse_args(argv)
    stack = Stack(args.state.resolve())
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    # Ctrl-C stops everything, also when started from a shell's background job, which
    # starts its children with SIGINT ignored (and Python then leaves it ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return stack.up(demo=not args.no_demo)
    except KeyboardInterrupt:
        stack.stop()
        return 0


if __name__ == "__main__":
    sys.exit(main())
