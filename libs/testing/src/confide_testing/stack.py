"""`make run` in a test: ``confide-stack up`` started as a newcomer starts it,
in a database prefix, broker vhost and ports of its own, and everything it made
removed afterwards (databases, their roles, the per-service broker logins)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import requests
from psycopg import sql

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BROKER_API = "http://127.0.0.1:15672/api"
GUEST = ("guest", "guest")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def up(state: Path, env: dict) -> tuple[subprocess.Popen, str]:
    """``confide-stack up``, once it says it is running: (process, what it printed)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "confide_runtime.stack", "up", "--state", str(state)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = []
    deadline = time.monotonic() + 300
    for line in process.stdout:
        output.append(line)
        if "Press Ctrl-C" in line or time.monotonic() > deadline:
            break
    return process, "".join(output)


def ctrl_c(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    return rest


def forget(prefix: str) -> None:
    """Drop the databases and roles a stack of ``prefix`` made, and its broker logins."""
    like = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"  # (a prefix, not a pattern)
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        databases = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (like,)).fetchall()
        for (name,) in databases:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        groups = conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (like,)).fetchall()
        for (group,) in groups:
            members = conn.execute(
                "SELECT m.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
                "JOIN pg_roles m ON m.oid = a.member WHERE g.rolname = %s", (group,)).fetchall()
            for (member,) in members:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(member)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(group)))
    for user in requests.get(f"{BROKER_API}/users", auth=GUEST, timeout=10).json():
        if user["name"].startswith(f"{prefix}-"):
            requests.delete(f"{BROKER_API}/users/{quote(user['name'], safe='')}", auth=GUEST, timeout=10)


@dataclass(frozen=True)
class Stack:
    state: Path
    web: str  # the gateway, http://127.0.0.1:<port>
    prefix: str
    people: dict[str, str]  # the demo's usernames and passwords at the development OpenID provider

    @property
    def ids(self) -> dict[str, str]:
        """What the demo made (``confide_client.demo.MARKER``)."""
        return json.loads((self.state / "demo.json").read_text())

    def database(self, service: str) -> str:
        return f"postgresql://postgres@127.0.0.1:5432/{self.prefix}_{service}"


@contextlib.contextmanager
def running(state: Path, prefix: str) -> Iterator[Stack]:
    """The whole platform with the demo loaded, in a vhost of its own; stopped and forgotten afterwards."""
    vhost = prefix
    requests.put(f"{BROKER_API}/vhosts/{vhost}", auth=GUEST, timeout=10).raise_for_status()
    requests.put(f"{BROKER_API}/permissions/{vhost}/guest", auth=GUEST, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    web, vault, witness = free_port(), free_port(), free_port()
    env = dict(os.environ, CONFIDE_VAULT_PORT=str(vault), CONFIDE_DATABASE_PREFIX=prefix,
               AMQP_URI=f"amqp://guest:guest@127.0.0.1:5672/{vhost}", CONFIDE_WEB_SERVER_ADDRESS=f"127.0.0.1:{web}",
               CONFIDE_WITNESS_ADDRESS=f"127.0.0.1:{witness}")
    process = None
    try:
        process, text = up(state, env)
        if "Confide is running" not in text:
            raise RuntimeError(f"the stack did not come up:\n{text[-3000:]}")
        people = {line.split()[0]: line.split()[1]
                  for line in (state / "sign-in-people.txt").read_text().splitlines() if line.strip()}
        yield Stack(state, f"http://127.0.0.1:{web}", prefix, people)
    finally:
        try:
            if process is not None and process.poll() is None:
                ctrl_c(process)
        finally:
            forget(prefix)
            requests.delete(f"{BROKER_API}/vhosts/{vhost}", auth=GUEST, timeout=10)
