"""Audit first: the access event is committed before data is returned; a denial
is committed even though the work is refused; bad facts are refused by name."""

import pytest
from confide_access import AccessDenied, Action, CallerSchema, deny, record_access
from confide_events import InvalidEvent, registry
from confide_messaging import UnitOfWorkProvider, add_messaging_tables
from confide_messaging.tables import outbox_table
from confide_persistence import make_metadata
from confide_testing import random_id
from nameko import config
from nameko.exceptions import RemoteError
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcClient
from sqlalchemy import Column, String, Table, insert, select, text

metadata = make_metadata()
clients = Table(
    "clients", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("site_id", String(64), nullable=False),
)
add_messaging_tables(metadata)


class RecordsLikeService:
    name = "recordslike"
    uow = UnitOfWorkProvider()

    @rpc
    def read_client(self, caller: dict, client_id: str) -> dict:
        who = CallerSchema().load(caller)
        with self.uow() as uow:
            row = uow.session.execute(select(clients).where(clients.c.id == client_id)).one()
            allowed = row.site_id in who.sites
            if allowed:
                record_access(uow, who, action=Action.READ, resource_type="Client",
                              resource_id=client_id, client_id=client_id, site_id=row.site_id)
        # committed: the access event is in the outbox before the data leaves
        if not allowed:
            deny(self.uow, who, action=Action.READ, resource_type="Client", resource_id=client_id,
                 client_id=client_id, site_id=row.site_id, reason="client is outside the caller's sites")
        return {"id": row.id, "name": row.name}


@pytest.fixture
def engine(database_with):
    return database_with(metadata, "access")


@pytest.fixture
def client_id(engine):
    cid = random_id("client")
    with engine.begin() as conn:
        conn.execute(insert(clients).values(id=cid, name="Jordan Example", site_id="site-a"))
    return cid


@pytest.fixture
def rpc_client(engine, rabbit_config, container_factory):
    with config.patch({"DATABASE_URL": engine.url.render_as_string(hide_password=False)}):
        container = container_factory(RecordsLikeService)
        container.start()
        with ClusterRpcClient() as client:
            yield client


def caller(**overrides):
    base = {"user_id": "dr-lee", "role": "clinician", "sites": ["site-a"], "purpose": "treatment",
            "source_address": "10.0.0.7", "user_agent": "pytest"}
    base.update(overrides)
    return base


def access_events(engine):
    with engine.connect() as conn:
        return [registry.parse(m) for m in conn.execute(select(outbox_table.c.message)).scalars()]


def test_allowed_read_commits_its_access_event_with_the_data(rpc_client, engine, client_id):
    assert rpc_client.recordslike.read_client(caller(), client_id)["name"] == "Jordan Example"
    [event] = access_events(engine)
    assert event.type == "recordslike.access.recorded"
    assert event.actor.id == "dr-lee" and event.actor.role == "clinician"
    assert event.site_id == "site-a"
    assert event.payload["action"] == "read"
    assert event.payload["outcome"] == "allowed"
    assert event.payload["client_id"] == client_id
    assert event.payload["source_address"] == "10.0.0.7"
    assert "Jordan" not in str(event.to_message())  # minimum necessary: no client data in events


def test_denied_attempt_is_recorded_and_refused(rpc_client, engine, client_id):
    with pytest.raises(RemoteError, match="AccessDenied"):
        rpc_client.recordslike.read_client(caller(sites=["site-b"]), client_id)
    [event] = access_events(engine)
    assert event.payload["outcome"] == "denied"
    assert event.payload["reason"] == "client is outside the caller's sites"


def test_no_data_when_the_access_event_cannot_be_committed(rpc_client, engine, client_id):
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$"
        ))
        conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse()"))
    with pytest.raises(RemoteError) as caught:
        rpc_client.recordslike.read_client(caller(), client_id)
    assert "Jordan" not in str(caught.value)
    assert access_events(engine) == []


def test_bad_caller_is_refused_by_field():
    from marshmallow import ValidationError

    with pytest.raises(ValidationError) as caught:
        CallerSchema().load(caller(role="janitor", break_glass_reason="short"))
    assert set(caught.value.messages) == {"role", "break_glass_reason"}


def test_access_event_rules_name_the_field():
    from confide_events import Actor

    actor = Actor(id="x", role="clinician")
    base = {"action": "read", "outcome": "denied", "resource_type": "Client", "purpose": "treatment"}
    with pytest.raises(InvalidEvent) as caught:
        registry.build("records.access.recorded", base, producer="records", actor=actor)
    assert caught.value.fields == ["payload.reason"]
    with pytest.raises(InvalidEvent) as caught:
        registry.build("records.access.recorded", {**base, "outcome": "allowed", "break_glass": True},
                       producer="records", actor=actor)
    assert caught.value.fields == ["payload.break_glass_reason"]
    with pytest.raises(InvalidEvent) as caught:
        registry.build("records.access.recorded", {**base, "outcome": "allowed", "action": "disclose"},
                       producer="records", actor=actor)
    assert caught.value.fields == ["payload.recipient"]
    # a refused disclosure released nothing, so it has no recipient to name
    refused = registry.build("records.access.recorded", {**base, "action": "disclose", "reason": "no such client"},
                             producer="records", actor=actor)
    assert refused.payload["recipient"] is None


def test_break_the_glass_is_flagged(engine):
    from confide_messaging import UnitOfWork
    from sqlalchemy.orm import Session

    who = CallerSchema().load(caller(purpose="emergency", break_glass_reason="client in crisis, on-call"))
    with Session(engine) as session, session.begin():
        uow = UnitOfWork(session, "records", registry)
        record_access(uow, who, action=Action.READ, resource_type="Note", resource_id="n1", client_id="c1")
    [event] = access_events(engine)
    assert event.payload["break_glass"] is True
    assert event.payload["purpose"] == "emergency"


def test_access_denied_carries_its_reason():
    assert AccessDenied("not on care team").reason == "not on care team"


def test_load_refuses_text_no_database_keeps_by_field():
    from confide_access import InvalidRequest, load, parse_id
    from marshmallow import Schema, fields

    class Named(Schema):
        name = fields.String()
        tags = fields.List(fields.String())

    with pytest.raises(InvalidRequest) as caught:
        load(Named(), {"name": "a\x00b", "tags": ["ok", "\ud800"]})
    assert caught.value.errors == {"name": ["must not contain NUL characters"],
                                   "tags.1": ["is not valid Unicode text"]}
    with pytest.raises(InvalidRequest) as bad_id:
        parse_id("0", "license_id")
    assert list(bad_id.value.errors) == ["license_id"]
