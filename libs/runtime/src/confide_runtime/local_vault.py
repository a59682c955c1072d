"""OpenBao for ``make run`` and compose: a real server, not ``-dev``. Its
storage is kept (``make run``: the state folder; compose: a volume), so transit
keys -- without which no note can be read -- outlive a restart. It listens over
TLS with a certificate from a small CA of its own (services pin that CA,
``VAULT_CACERT``); it is initialised once, with one unseal key, kept with the
root token in ``init.json`` (mode 0600), and unsealed from it at every start
(compose: the ``confide-vault-unseal`` job).

Development only: a clinic network keeps unseal keys with separate custodians
or auto-unseals with a KMS (README, "Operating it").
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from confide_runtime.tls import LocalCA, write_private

# integrated storage (raft), one node: OpenBao's own, no other server to run.
# performance_multiplier 1 (raft's production timing; the default is 5): a lone
# node waits out one election timeout before it leads, and at 5x that is 5-10 s
# before ``sys/init`` answers (and more on a loaded machine), 1-2 s at 1x
CONFIG = """\
storage "raft" {{
  path    = "{data}"
  node_id = "confide-local"
  performance_multiplier = 1
}}
listener "tcp" {{
  address         = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster_port}"
  tls_cert_file   = "{cert}"
  tls_key_file    = "{key}"
}}
api_addr     = "https://127.0.0.1:{port}"
cluster_addr = "https://127.0.0.1:{cluster_port}"
ui           = false
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_tls(folder: Path, names: tuple[str, ...] = ("127.0.0.1", "localhost")) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) for ``names``, made once
    by a CA of this machine's own (:mod:`confide_runtime.tls`)."""
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    if ca_path.exists() and cert_path.exists() and key_path.exists():  # (a CA that kept no key: as it is)
        return ca_path, cert_path, key_path
    cert, key = LocalCA(folder).issue("server", names)
    return ca_path, cert, key


class Unsealer:
    """Initialises a Vault at ``addr`` the first time (one unseal key, kept with
    the root token in ``keys_file``, mode 0600) and unseals it from that file."""

    def __init__(self, addr: str, ca: Path, keys_file: Path) -> None:
        self.addr, self.ca, self.keys_file = addr, ca, keys_file

    def _get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(f"{self.addr}/v1/{path}", verify=str(self.ca), timeout=2, **kwargs)

    def _put(self, path: str, body: dict) -> dict:
        # long: init answers once raft has a leader, and a client that gave up on
        # an init the server went on to finish would never see its keys again
        answer = requests.put(f"{self.addr}/v1/{path}", json=body, verify=str(self.ca), timeout=120)
        answer.raise_for_status()
        return answer.json()

    def health(self) -> dict | None:
        """``{"initialized": ..., "sealed": ...}``, or None when nothing answers."""
        try:
            return self._get("sys/health").json()
        except (requests.RequestException, ValueError):
            return None

    def token_works(self, token: str) -> bool:
        try:
            return self._get("auth/token/lookup-self", headers={"X-Vault-Token": token}).status_code == 200
        except requests.RequestException:
            return False

    def wait(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while self.health() is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"Vault at {self.addr} did not answer within {seconds:.0f}s")
            time.sleep(0.2)

    def unseal(self, say) -> str:
        """Initialise (the first time) and unseal; the root token."""
        health = self.health() or {}
        if not health.get("initialized"):
            if self.keys_file.exists():
                raise SystemExit(f"Vault at {self.addr} has empty storage but {self.keys_file} exists: the keys "
                                 "belong to a Vault whose data is gone. Restore its storage, or remove the key "
                                 "file to start over (text sealed before will not read)")
            say(f"initialising OpenBao (once): one unseal key, kept in {self.keys_file}")
            keys = self._put("sys/init", {"secret_shares": 1, "secret_threshold": 1})
            self.keys_file.parent.mkdir(parents=True, exist_ok=True)
            write_private(self.keys_file, json.dumps(
                {"unseal_keys_b64": keys["keys_base64"], "root_token": keys["root_token"]}, indent=2).encode())
        kept = json.loads(self.keys_file.read_text())
        if (self.health() or {}).get("sealed", True):
            say("unsealing OpenBao")
            for key in kept["unseal_keys_b64"]:
                self._put("sys/unseal", {"key": key})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # active (raft has elected it), and its mounts loaded
            health = self.health() or {}
            if health.get("initialized") and not health.get("sealed") and not health.get("standby"):
                return kept["root_token"]
            time.sleep(0.1)
        raise SystemExit(f"Vault at {self.addr} did not become active within 60s of unsealing")


class LocalVault:
    def __init__(self, state: Path, port: int) -> None:
        self.folder = state / "vault"
        self.port = port
        self.addr = f"https://127.0.0.1:{port}"
        self.keys_file = self.folder / "init.json"
        self.ca, self._cert, self._key = ensure_tls(self.folder / "tls")
        self.unsealer = Unsealer(self.addr, self.ca, self.keys_file)

    def health(self) -> dict | None:
        return self.unsealer.health()

    def token_works(self, token: str) -> bool:
        return self.unsealer.token_works(token)

    def start(self, log_path: Path) -> subprocess.Popen:
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.folder / "config.hcl"
        config.write_text(CONFIG.format(data=data, port=self.port, cluster_port=_free_port(), cert=self._cert,
                                        key=self._key))
        bao = Path(sys.executable).parent / "bao"
        process = subprocess.Popen([str(bao), "server", f"-config={config}"], stdout=open(log_path, "ab"),
                                   stderr=subprocess.STDOUT, cwd=self.folder)
        for _ in range(150):
            if self.health() is not None:
                return process
            if process.poll() is not None:
                break
            time.sleep(0.1)
        process.kill()
        raise SystemExit(f"OpenBao did not start; see {log_path} (is port {self.port} taken?)")

    def unseal(self, say) -> str:
        return self.unsealer.unseal(say)


def main(argv: list[str] | None = None) -> int:
    """``confide-vault-unseal``: compose's job between OpenBao and the bootstrap."""
    import argparse

    parser = argparse.ArgumentParser(prog="confide-vault-unseal", description="Initialise (once) and unseal "
                                     "a development OpenBao from its key file; write its root token")
    parser.add_argument("--addr", required=True)
    parser.add_argument("--ca", type=Path, required=True, help="the CA Vault's certificate is pinned to")
    parser.add_argument("--keys", type=Path, required=True, help="init.json: the unseal key and root token")
    parser.add_argument("--token-out", type=Path, required=True, help="where to write the root token")
    args = parser.parse_args(argv)
    unsealer = Unsealer(args.addr, args.ca, args.keys)
    unsealer.wait()
    token = unsealer.unseal(lambda line: print(f"==> {line}", flush=True))
    write_private(args.token_out, token.encode())
    print(f"confide-vault-unseal: {args.addr} is unsealed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
