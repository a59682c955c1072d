"""`make run` from nothing: `confide-stack up` starts OpenBao (over TLS, its
storage kept in the state folder), prepares each
service's database and Vault role, starts every installed service (each logs in
with its AppRole and connects with a Vault-issued database user), loads the demo
network through the gateway so that a first `confide audit query` shows a real
trail, and Ctrl-C stops all of it; started again, it reads what it wrote before
(a note sealed with transit keys Vault kept). Runs in its own vhost, database
prefix and Vault port."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import requests
from confide_testing import random_id, wait_until
from confide_testing.signin import device_sign_in, sign_in_at
from confide_testing.stack import ADMIN, ctrl_c, forget, free_port, up
from nameko.standalone.rpc import ClusterRpcClient


@pytest.fixture
def prefix():
    prefix = random_id("stack").replace("-", "_")
    yield prefix
    forget(prefix)


def test_stack_comes_up_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path, prefix, rabbit_config):
    from nameko import config

    port, web, witness = free_port(), free_port(), free_port()
    env = dict(os.environ, CONFIDE_VAULT_PORT=str(port), CONFIDE_DATABASE_PREFIX=prefix,
               AMQP_URI=config["AMQP_URI"], CONFIDE_WEB_SERVER_ADDRESS=f"127.0.0.1:{web}",
               CONFIDE_WITNESS_ADDRESS=f"127.0.0.1:{witness}")
    process, text = up(tmp_path, env)
    ca = str(tmp_path / "vault" / "tls" / "ca.pem")
    try:
        assert "Confide is running" in text, text
        token = (tmp_path / "vault-token").read_text().strip()
        # TLS only: plain HTTP is answered by the TLS server's refusal, never by Vault
        assert requests.get(f"http://127.0.0.1:{port}/v1/sys/health", timeout=2).status_code == 400
        mounts = requests.get(f"https://127.0.0.1:{port}/v1/sys/mounts", verify=ca,
                              headers={"X-Vault-Token": token}, timeout=5).json()["data"]
        assert "transit/" in mounts and "database/" in mounts
        # every installed service answers, as a Vault-issued database user
        with ClusterRpcClient() as rpc:
            for service in ("audit", "billing", "credentialing", "records", "scheduling"):
                health = wait_until(lambda s=service: _health(rpc, s), timeout=60, what=f"{service} health")
                assert health["status"] == "ok"
        with psycopg.connect(ADMIN) as conn:
            users = conn.execute("SELECT usename FROM pg_stat_activity WHERE datname = %s",
                                 (f"{prefix}_audit",)).fetchall()
        assert any(u.startswith("v-approle-audit") for (u,) in users), users
        # ... and each on the broker as its own login, not guest
        expected = {f"{prefix}-{s}" for s in ("audit", "records", "gateway")}

        def logins():  # (the management API lists a connection once its statistics come in)
            connections = requests.get("http://127.0.0.1:15672/api/connections", auth=("guest", "guest"),
                                       timeout=10).json()
            seen = {c["user"] for c in connections if c["vhost"] == config["AMQP_URI"].rsplit("/", 1)[1]}
            return expected <= seen and seen

        wait_until(logins, timeout=30, what="each service's own broker login")
        # each service's probes: alive, and ready (its own health call through the broker)
        probes = json.loads((tmp_path / "probes.json").read_text())
        assert set(probes) == {"audit", "billing", "credentialing", "gateway", "records", "scheduling", "witness"}
        for service, address in probes.items():
            assert _get(f"http://{address}/healthz", 200)["service"] == service
            assert wait_until(lambda a=address: _get(f"http://{a}/readyz", 200), timeout=30,
                              what=f"{service} ready")["status"] == "ok"
        for service in probes:  # each started, then froze its start-up objects (confide_runtime.heap)
            assert "start-up objects frozen" in (tmp_path / f"{service}.log").read_text(), service
        # migrated as the schema's owner, by a Vault user that is gone again
        with psycopg.connect(ADMIN, dbname=f"{prefix}_audit") as conn:
            owners = {o for (o,) in conn.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")}
            migrators = conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-approle-audit-mi%'").fetchall()
        assert owners == {f"{prefix}_audit_owner"} and not migrators, (owners, migrators)
        # the gateway is ready once every service answers, and takes a dev token
        ready = wait_until(lambda: _get(f"http://127.0.0.1:{web}/readyz", 200), timeout=60, what="/readyz")
        assert ready["checks"]["vault"] == "ok" and ready["checks"]["scheduling"] == "ok"
        from confide_client.devtokens import mint

        bearer = mint(tmp_path, "fd-1", "front_desk", ["north"])
        answer = requests.get(f"http://127.0.0.1:{web}/api/v1/clients/01a22222-0000-7000-8000-000000000000",
                              headers={"Authorization": f"Bearer {bearer}"}, timeout=10)
        assert answer.status_code == 403, answer.text  # no client, answered as one not theirs
        # a person signs in through the development OpenID provider (confide login's device flow), and the
        # gateway knows them by the groups it sent: the front desk at north
        sign_in = json.loads((tmp_path / "sign-in.json").read_text())
        people = {line.split()[0]: line.split()[1] for line in (tmp_path / "sign-in-people.txt").read_text()
                  .splitlines()}
        assert oct((tmp_path / "sign-in-people.txt").stat().st_mode & 0o777) == "0o600"
        signed, page = device_sign_in(sign_in["issuer"], sign_in["audience"], "desk", people["desk"])
        assert isinstance(signed, dict), (signed, page.text[:300])
        sheet = requests.get(f"http://127.0.0.1:{web}/api/v1/sites", timeout=10,
                             headers={"Authorization": f"Bearer {signed['access_token']}"})
        assert sheet.status_code == 200 and [s["id"] for s in sheet.json()["items"]] in ([], ["north"]), sheet.text
        # ... and with a browser: the console's sign-in, through the same provider
        console = sign_in_at(f"http://127.0.0.1:{web}/auth/login", "desk", people["desk"],
                             stop_at=f"http://127.0.0.1:{web}")
        assert console.url.endswith("/console/") and "Front Desk (North)" in console.text, console.text[:300]
        # the demo network is there: a newcomer's first query shows a refusal and a break-the-glass read
        assert "demo: a refused read, a break-the-glass read and a disclosure" in text, text
        officer = mint(tmp_path, "co-1", "compliance_officer", [])
        cli = dict(os.environ, CONFIDE_URL=f"http://127.0.0.1:{web}", CONFIDE_TOKEN=officer)
        query = [sys.executable, "-m", "confide_client.cli", "audit", "query", "--json", "--limit", "1000"]

        def entries(*filters):
            printed = subprocess.run([*query, *filters], env=cli, capture_output=True, text=True, check=True)
            return [json.loads(line) for line in printed.stdout.splitlines() if line.strip()]

        denied = entries("--outcome", "denied")
        assert any(e["actor_id"] == "dr-ben-okafor" and e["resource_type"] == "Client" for e in denied), denied
        flagged = entries()
        assert any(e["break_glass"] for e in flagged)
        again = subprocess.run([sys.executable, "-m", "confide_client.cli", "demo", "--state", str(tmp_path)],
                               env=cli, capture_output=True, text=True, check=True).stdout
        assert "already loaded" in again  # (loaded once per stack)
        assert {"records", "scheduling", "billing", "credentialing"} <= {e["producer"] for e in flagged}
        # the demo left a checkpoint, and the witness cosigned it
        checkpoints = wait_until(lambda: [c for c in requests.get(
            f"http://127.0.0.1:{web}/api/v1/audit/checkpoints", headers={"Authorization": f"Bearer {officer}"},
            timeout=10).json()["checkpoints"] if c["witnessed"]], timeout=30, what="a witnessed checkpoint")
        assert "\u2014 confide.local/witness " in checkpoints[0]["note"]
        # records encrypts with its own transit keys
        keys = requests.request("LIST", f"https://127.0.0.1:{port}/v1/transit/keys", verify=ca,
                                headers={"X-Vault-Token": token}, timeout=5).json()["data"]["keys"]
        assert {"record-notes", "psychotherapy-notes", "audit-checkpoints"} <= set(keys)
        note_before = _demo_note(tmp_path, web)
        assert "paced breathing" in note_before
    finally:
        rest = ctrl_c(process)
    stopped = ("audit", "billing", "credentialing", "gateway", "records", "scheduling", "witness", "openbao")
    assert all(f"stopping {s}" in rest for s in stopped), rest
    with pytest.raises(requests.RequestException):
        requests.get(f"https://127.0.0.1:{port}/v1/sys/health", verify=ca, timeout=1)

    # started again (as a newcomer would after Ctrl-C): Vault unseals from its key file and
    # the note written before reads the same -- its transit key was kept, not made anew
    process, text = up(tmp_path, env)
    try:
        assert "Confide is running" in text and "unsealing OpenBao" in text and "initialising" not in text, text
        assert wait_until(lambda: _demo_note(tmp_path, web), timeout=60, what="the note after a restart") \
            == note_before
    finally:
        ctrl_c(process)


def _demo_note(state: Path, web: int) -> str | None:
    """The demo's first note, as its author reads it through the gateway."""
    from confide_client.demo import ANA, MARKER
    from confide_client.devtokens import mint

    ids = json.loads((state / MARKER).read_text())
    answer = requests.get(f"http://127.0.0.1:{web}/api/v1/clients/{ids['robin']}/notes/{ids['robin_note']}",
                          headers={"Authorization": f"Bearer {mint(state, ANA, 'clinician', ['north', 'south'])}"},
                          timeout=10)
    return " ".join(s["body"] for s in answer.json()["sections"]) if answer.status_code == 200 else None


def _get(url, status):
    try:
        answer = requests.get(url, timeout=5)
    except requests.RequestException:
        return None
    return answer.json() if answer.status_code == status else None


def _health(rpc, service):
    try:
        return getattr(rpc, service).health()
    except Exception:  # noqa: BLE001 - not up yet
        return None
