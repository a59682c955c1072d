"""`make run` from nothing: `confide-stack up` brings up Vault and every installed
service, reports where things are, and Ctrl-C stops all of it."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_stack_comes_up_and_stops_cleanly_on_ctrl_c(tmp_path: Path):
    port = free_port()
    env = dict(os.environ, CONFIDE_VAULT_PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "confide_runtime.stack", "up", "--state", str(tmp_path)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = []
    deadline = time.monotonic() + 120
    try:
        for line in process.stdout:
            output.append(line)
            if "Press Ctrl-C" in line or time.monotonic() > deadline:
                break
        text = "".join(output)
        assert "Confide is running" in text, text
        token = (tmp_path / "vault-token").read_text().strip()
        health = requests.get(f"http://127.0.0.1:{port}/v1/sys/mounts",
                              headers={"X-Vault-Token": token}, timeout=5)
        assert "transit/" in health.json()["data"]
        assert "database/" in health.json()["data"]
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert "stopping openbao" in rest
    try:
        requests.get(f"http://127.0.0.1:{port}/v1/sys/health", timeout=1)
        still_up = True
    except requests.RequestException:
        still_up = False
    assert not still_up
