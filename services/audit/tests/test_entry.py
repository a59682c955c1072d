import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from confide_audit.domain.entry import AccessFacts, canonical
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.unit  # pure: no PostgreSQL, RabbitMQ or OpenBao

text = st.text(max_size=40)
optional = st.none() | text


@settings(max_examples=300, deadline=None)
@given(actor=text, reason=optional, agent=optional, glass=st.booleans(), seq=st.integers(0, 2**62),
       minutes=st.integers(-10_000, 10_000))
def test_canonical_form_is_plain_sorted_compact_json(actor, reason, agent, glass, seq, minutes):
    occurred = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5))) + timedelta(minutes=minutes)
    facts = AccessFacts(
        event_id="e", event_type="records.access.recorded", producer="records", occurred_at=occurred,
        actor_id=actor, actor_role="clinician", on_behalf_of=None, site_id="s", action="read", outcome="allowed",
        resource_type="Note", resource_id=None, client_id="c", purpose="treatment", reason=reason,
        break_glass=glass, break_glass_reason=None, source_address=None, user_agent=agent, recipient=None,
        trace_id=None,
    )
    recorded = datetime(2026, 3, 1, tzinfo=UTC)
    data = canonical(3, seq, recorded, facts)
    document = json.loads(data)
    assert data == json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert document["actor_id"] == actor and document["seq"] == seq and document["chain"] == 3
    assert document["occurred_at"] == occurred.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_the_export_contract_names_every_fact():
    from confide_audit.domain.entry import FACT_FIELDS
    from confide_contracts.audit_export import FACT_FIELDS as EXPORTED

    assert EXPORTED == FACT_FIELDS


@pytest.mark.unit
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_a_timestamp_in_the_canonical_form_is_its_own_form(instant):
    from confide_contracts.audit_export import timestamp

    written = timestamp(instant)
    assert timestamp(written) == written
    assert timestamp(instant.astimezone(timezone(timedelta(hours=-5))).isoformat()) == written


@pytest.mark.unit
def test_a_string_not_quite_in_the_form_is_read_as_a_time():
    from confide_contracts.audit_export import timestamp

    assert timestamp("2026-03-01T09:30:00+01:00") == "2026-03-01T08:30:00.000000Z"
    with pytest.raises(ValueError):
        timestamp("2026-03-01T09:30:00.00000xZ")


def test_postgresql_writes_the_canonical_form_as_python_does(audit_db):
    """Verification reads timestamps formatted by PostgreSQL: the same bytes, to the microsecond."""
    from confide_contracts.audit_export import SQL_CANONICAL_TIMESTAMP, timestamp
    from sqlalchemy import text

    instants = [datetime(2026, 1, 1, tzinfo=UTC), datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                datetime(2026, 3, 8, 7, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5))),
                datetime(2100, 2, 28, 12, 0, 0, 500000, tzinfo=UTC)]
    with audit_db.connect() as conn:
        conn.execute(text("SET TimeZone = 'America/New_York'"))  # the session's zone must not matter
        for instant in instants:
            written = conn.execute(text(f"SELECT {SQL_CANONICAL_TIMESTAMP.format(column='CAST(:t AS timestamptz)')}"),
                                   {"t": instant}).scalar_one()
            assert written == timestamp(instant)
