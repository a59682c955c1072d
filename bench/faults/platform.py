"""The whole platform as ``make run`` starts it (``confide_runtime.stack``),
owned by the fault harness: in a database prefix, broker vhost and ports of its
own, every service's connections to RabbitMQ and to Vault through a TCP proxy
the harness can cut, and the means to break each part the way it breaks in a
clinic network -- a process killed, backends terminated, a lease revoked, the
audit database made slow, poison published under a producer's own login.
Everything it made is removed afterwards."""

from __future__ import annotations

import contextlib
import json
import secrets
import signal
import time
from pathlib import Path
from urllib.parse import quote

import hvac
import nameko
import psycopg
import psycopg.errors
import requests
from confide_client.devtokens import mint
from confide_messaging.publisher import ConfirmingPublisher, OutgoingMessage
from confide_runtime.stack import Stack, free_port
from confide_testing.proxy import TcpProxy
from confide_testing.stack import forget
from psycopg import sql

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BROKER_API = "http://127.0.0.1:15672/api"
GUEST = ("guest", "guest")
SLOW_TRIGGER = "faults_slow_consumer"


def _locking(conn: psycopg.Connection, statement: sql.Composable, attempts: int = 10) -> bool:
    """Run a statement that locks a table the audit service writes to without stalling or deadlocking it:
    each attempt waits 2 s at most for its locks, and a deadlock is tried again. Whether it was done."""
    conn.execute("SET lock_timeout = '2s'")
    for _ in range(attempts):
        try:
            conn.execute(statement)
            return True
        except (psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable):
            time.sleep(0.5)
    return False


class ProxiedStack(Stack):
    """``make run``'s stack with each service's broker and Vault connections through ``broker`` and ``vault``."""

    def __init__(self, state: Path, broker: TcpProxy, vault: TcpProxy, **settings) -> None:
        super().__init__(state, **settings)
        self.broker_proxy, self.vault_proxy = broker, vault

    def start_service(self, manifest, database_url, vault_env, amqp_uri, extra=None) -> None:
        super().start_service(manifest, database_url, vault_env, self.broker_proxy.uri(amqp_uri),
                              {**(extra or {}), "VAULT_ADDR": f"https://127.0.0.1:{self.vault_proxy.port}"})


class Platform:
    def __init__(self, state: Path, say=print) -> None:
        self.say = say
        self.prefix = f"faults_{secrets.token_hex(3)}"
        self.vhost = self.prefix
        vault_port = free_port()
        self.broker = TcpProxy("127.0.0.1", 5672)
        self.vault = TcpProxy("127.0.0.1", vault_port)
        self.web = f"127.0.0.1:{free_port()}"
        self.base = f"http://{self.web}"
        self.stack = ProxiedStack(state, self.broker, self.vault, prefix=self.prefix, vault_port=vault_port,
                                  amqp_uri=f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}", web=self.web,
                                  witness=f"127.0.0.1:{free_port()}")
        self.state = state

    # --- the platform's life ----------------------------------------------
    def __enter__(self) -> Platform:
        requests.put(f"{BROKER_API}/vhosts/{self.vhost}", auth=GUEST, timeout=10).raise_for_status()
        requests.put(f"{BROKER_API}/permissions/{self.vhost}/guest", auth=GUEST, timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        try:
            self.stack.start(demo=False)
            self.ready(timeout=180)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_) -> None:
        try:
            self.stack.stop()
        finally:
            self.broker.close()
            self.vault.close()
            forget(self.prefix)
            requests.delete(f"{BROKER_API}/vhosts/{self.vhost}", auth=GUEST, timeout=10)

    def unready(self) -> list[str]:
        """The services whose readiness probe does not answer 200 now."""
        waiting = []
        for name, address in self.stack.probes.items():
            try:
                if not requests.get(f"http://{address}/readyz", timeout=2).ok:
                    waiting.append(name)
            except requests.RequestException:
                waiting.append(name)
        return waiting

    def ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while waiting := self.unready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready within {timeout:.0f}s: {', '.join(waiting)} "
                                   f"(logs in {self.state})")
            time.sleep(0.5)

    def token(self, user: str, role: str, sites: list[str]) -> str:
        return mint(self.state, user, role, sites)

    # --- processes ----------------------------------------------------------
    def kill(self, service: str, how: signal.Signals = signal.SIGKILL) -> None:
        process = self.stack.processes[service]
        process.send_signal(how)
        process.wait(30)

    def restart(self, service: str) -> None:
        self.stack.launch(service)

    def supervise(self, leave: str = "") -> list[str]:
        """As Kubernetes would: start again every service whose process ended on its own
        (all but ``leave``, which a fault keeps down); the ones started."""
        ended = [name for name, process in self.stack.processes.items()
                 if name in self.stack.environments and name != leave and process.poll() is not None]
        for name in ended:
            self.say(f"    {name} exited ({self.stack.processes[name].returncode}): starting it again")
            self.restart(name)
        return ended

    # --- PostgreSQL -----------------------------------------------------------
    def database(self, service: str) -> str:
        return f"postgresql://postgres@127.0.0.1:5432/{self.prefix}_{service}"

    def terminate_backends(self, service: str) -> int:
        """End every connection the service has open to its database (as an operator's
        ``pg_terminate_backend`` would, or a failover): how many."""
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            return conn.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND usename <> current_user", (f"{self.prefix}_{service}",)).fetchone()[0]

    def slow_audit(self, seconds_a_row: float | None) -> None:
        """Make each entry the audit service writes wait ``seconds_a_row`` (a trigger with
        ``pg_sleep``), or no longer (``None``: the function made not to wait at once, which
        takes no lock on the table, then the trigger dropped)."""
        with psycopg.connect(self.database("audit"), autocommit=True) as conn:
            conn.execute(sql.SQL(
                "CREATE OR REPLACE FUNCTION faults_slow_consumer() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep({}); RETURN NEW; END $$").format(sql.Literal(seconds_a_row or 0)))
            if seconds_a_row is None:
                if not _locking(conn, sql.SQL("DROP TRIGGER IF EXISTS {} ON audit_entries").format(
                        sql.Identifier(SLOW_TRIGGER))):
                    self.say("    (the slow-consumer trigger stays, waiting no longer: its table was busy)")
                return
            if not _locking(conn, sql.SQL("CREATE TRIGGER {} BEFORE INSERT ON audit_entries FOR EACH ROW "
                                          "EXECUTE FUNCTION faults_slow_consumer()").format(
                                              sql.Identifier(SLOW_TRIGGER))):
                raise RuntimeError("could not put the slow-consumer trigger on audit_entries: always busy")

    # --- Vault ----------------------------------------------------------------
    def revoke_leases(self, service: str) -> None:
        """Revoke every database lease Vault gave ``service``: its role is dropped
        and its connections ended (the engine's revocation statements)."""
        root = (self.state / "vault-token").read_text().strip()
        client = hvac.Client(url=self.stack.vault_addr, token=root, verify=str(self.stack.vault.ca))
        client.sys.revoke_prefix(f"database/creds/{service}")

    # --- RabbitMQ ----------------------------------------------------------------
    def poison(self, producer: str = "records") -> int:
        """Publish, under ``producer``'s own broker login, an access event that breaks
        its schema, one with a header a megabyte long, and a body that is not JSON:
        how many."""
        event = {"id": "0190b5c4-0000-7000-8000-000000000001", "type": f"{producer}.access.recorded",
                 "schema_version": 1, "occurred_at": "2026-12-01T00:00:00Z", "producer": producer,
                 "site_id": "faults", "actor": {"id": "faults-harness", "role": "clinician"},
                 "traceparent": None, "payload": {"action": "read", "outcome": "allowed", "resource_type": "Client",
                                                  "resource_id": "c-1", "client_id": "c-1", "purpose": "treatment"}}
        bad = {**event, "payload": {**event["payload"], "action": "steal"}}
        huge = {**event, "id": "0190b5c4-0000-7000-8000-000000000002",
                "payload": {**event["payload"], "user_agent": "x" * 1_000_000}}
        key = f"{producer}.access.recorded"
        with nameko.config.patch({"BROKER_EXCHANGES": "provisioned"}):  # (as the services publish)
            publisher = ConfirmingPublisher(self.stack.environments[producer]["AMQP_URI"])
        try:
            publisher.publish([OutgoingMessage(key, json.dumps(body).encode(), headers={"site_id": "faults"})
                               for body in (bad, huge)]
                              + [OutgoingMessage(key, b"\x00 not an event", headers={"site_id": "faults"})])
        finally:
            publisher.close()
        return 3

    def dead_letters(self) -> int:
        """Messages parked in the vhost's dead-letter queues now."""
        answer = requests.get(f"{BROKER_API}/queues/{quote(self.vhost, safe='')}", auth=GUEST, timeout=10,
                              params={"columns": "name,messages"})
        answer.raise_for_status()
        return sum(q.get("messages") or 0 for q in answer.json() if q["name"].endswith(".dead"))

    # --- the trail --------------------------------------------------------------
    def trail(self, traces: list[str]) -> dict[str, tuple[int, int]]:
        """For each trace id that has entries: (entries, distinct accesses among them --
        the same actor doing the same thing to the same resource of the same client with the same outcome)."""
        with psycopg.connect(self.database("audit")) as conn:
            rows = conn.execute(
                "SELECT trace_id, count(*), "
                "count(DISTINCT (actor_id, action, resource_type, resource_id, client_id, outcome)) "
                "FROM audit_entries WHERE trace_id = ANY(%s) GROUP BY trace_id", (traces,)).fetchall()
        return {trace: (entries, distinct) for trace, entries, distinct in rows}


@contextlib.contextmanager
def broken_outbox(platform: Platform, service: str, how: str):
    """The outbox made to fail as a faulty release could: ``drop`` silently loses every
    third access event a ``service`` writes (deleted as it is written: the service
    sees its write succeed), ``duplicate`` writes each one twice under two ids. For
    showing that ``make faults`` catches it; removed afterwards."""
    body = {
        "drop": "IF nextval('faults_every') % 3 = 0 THEN DELETE FROM outbox WHERE seq = NEW.seq; END IF;",
        "duplicate": "INSERT INTO outbox (id, type, message) VALUES (gen_random_uuid(), NEW.type, "
                     "jsonb_set(NEW.message, '{id}', to_jsonb(gen_random_uuid()::text)));",
    }[how]
    with psycopg.connect(platform.database(service), autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE IF NOT EXISTS faults_every")
        # (as its owner: the service's own role may neither delete from its outbox nor use the sequence)
        conn.execute("CREATE FUNCTION faults_broken_outbox() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
                     f"SET search_path = public AS $$ BEGIN {body} RETURN NULL; END $$")
        conn.execute("CREATE TRIGGER faults_broken_outbox AFTER INSERT ON outbox FOR EACH ROW "
                     "WHEN (NEW.type LIKE '%.access.recorded' AND pg_trigger_depth() < 1) "
                     "EXECUTE FUNCTION faults_broken_outbox()")
    try:
        yield
    finally:
        with psycopg.connect(platform.database(service), autocommit=True) as conn:
            conn.execute("DROP TRIGGER faults_broken_outbox ON outbox")
            conn.execute("DROP FUNCTION faults_broken_outbox()")
