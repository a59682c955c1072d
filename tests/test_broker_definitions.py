"""RabbitMQ as code: ``infra/rabbitmq/definitions.json`` is what the services
declare, it loads into the real broker, and a service runs on it as its own
user -- refused anything outside its own queues."""

import json
from pathlib import Path
from urllib.parse import quote

import confide_credentialing
import pytest
import requests
from amqp.exceptions import AccessRefused
from confide_credentialing.service import CredentialingService
from confide_runtime.broker import definitions, with_passwords
from confide_testing import random_id, wait_until
from confide_testing.broker import API, GUEST, imported
from confide_vault.bootstrap import caller_key
from kombu import Connection, Queue
from nameko import config

DEFINITIONS = Path(__file__).parents[1] / "infra" / "rabbitmq" / "definitions.json"


def test_the_checked_in_definitions_are_what_the_services_declare():
    assert json.loads(DEFINITIONS.read_text()) == definitions(), (
        "infra/rabbitmq/definitions.json is out of date: "
        "uv run confide-broker-definitions > infra/rabbitmq/definitions.json")


@pytest.fixture
def loaded():
    """The checked-in definitions, loaded; guest may call in to test the service."""
    with imported(json.loads(DEFINITIONS.read_text())) as (vhost, suffix):
        requests.put(f"{API}/permissions/{quote(vhost, safe='')}/guest", auth=GUEST, timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        yield {"vhost": vhost, "suffix": suffix}


def queue(vhost: str, name: str) -> dict:
    return requests.get(f"{API}/queues/{quote(vhost, safe='')}/{quote(name, safe='')}", auth=GUEST, timeout=10).json()


def test_definitions_load_and_a_service_runs_on_them_as_its_own_user(loaded, migrated_database, vault_client,
                                                                     container_factory, service_transit,
                                                                     rpc_client):
    vhost = loaded["vhost"]
    # the audit chains: quorum queues, one active consumer each, fed by the consistent-hash exchange
    chain = queue(vhost, "audit.ingest.0")
    assert chain["arguments"] == {"x-queue-type": "quorum", "x-single-active-consumer": True}
    assert queue(vhost, "billing.on_completed.dead")["arguments"] == {"x-queue-type": "quorum"}
    bound = requests.get(f"{API}/exchanges/{quote(vhost, safe='')}/audit.access/bindings/destination",
                         auth=GUEST, timeout=10).json()
    assert [(b["source"], b["routing_key"]) for b in bound] == [("confide.events", "*.access.recorded")]

    # credentialing, as confide-credentialing: it checks the shared exchanges (it may not configure them),
    # declares its own queues (identically), consumes RPC, publishes events
    user, password = "confide-credentialing" + loaded["suffix"], random_id("pw")
    requests.put(f"{API}/users/{quote(user, safe='')}", auth=GUEST, timeout=10,
                 json={"password": password, "tags": ""}).raise_for_status()
    own_uri = f"amqp://{quote(user, safe='')}:{password}@127.0.0.1:5672/{quote(vhost, safe='')}"
    guest_uri = f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"
    url = migrated_database(Path(confide_credentialing.__file__).parent / "migrations", "credentialing")
    service_transit.create_key(caller_key("credentialing"), key_type="ed25519")
    with config.patch({"AMQP_URI": own_uri, "DATABASE_URL": url, "VAULT": vault_client, "OUTBOX_POLL_SECONDS": 1,
                       "TRANSIT_MOUNT": service_transit.mount, "BROKER_EXCHANGES": "provisioned"}):
        container_factory(CredentialingService).start()
    with config.patch({"AMQP_URI": guest_uri}), rpc_client() as rpc:
        officer = {"user_id": "cred-1", "role": "credentialing_officer", "sites": ["north"], "purpose": "operations"}
        rpc.credentialing.register_clinician(officer, {"id": random_id("dr"), "given_name": "Ana",
                                                       "family_name": "Ruiz", "home_site_id": "north"})
    # its event reached the queue the definitions bind for billing
    wait_until(lambda: queue(vhost, "billing.on_clinician").get("messages", 0) >= 1, timeout=30,
               what="credentialing's event in billing's queue")

    # and it may touch nothing of another service's
    with Connection(own_uri) as connection:
        with pytest.raises(AccessRefused):
            Queue("records.on_supervision", durable=True, queue_arguments={"x-queue-type": "quorum"},
                  channel=connection.channel()).declare()
    with Connection(own_uri) as connection:
        with pytest.raises(AccessRefused):
            connection.channel().basic_get("billing.on_clinician")  # (reading billing's events)


def test_compose_hashes_each_services_password_into_the_definitions(tmp_path):
    """`make up` writes amqp-<service> secrets and the broker loads their hashes at boot."""
    for service in ("records", "admin"):
        (tmp_path / f"amqp-{service}").write_text(f"s3cret-{service}\n")
    defs = definitions()
    only_records = {**defs, "users": [u for u in defs["users"] if u["name"] == "confide-records"],
                    "permissions": [p for p in defs["permissions"] if p["user"] == "confide-records"],
                    "topic_permissions": [p for p in defs["topic_permissions"] if p["user"] == "confide-records"]}
    hashed = with_passwords(only_records, tmp_path)
    assert {u["name"] for u in hashed["users"]} == {"confide-records", "confide-admin"}
    with imported(hashed) as (vhost, suffix):
        with Connection(f"amqp://confide-records{suffix}:s3cret-records@127.0.0.1:5672/{vhost}") as ok:
            ok.connect()
        with pytest.raises(AccessRefused), Connection(
                f"amqp://confide-records{suffix}:wrong@127.0.0.1:5672/{vhost}", connect_timeout=5) as refused:
            refused.connect()
