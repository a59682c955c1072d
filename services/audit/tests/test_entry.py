import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from confide_audit.domain.entry import GENESIS, AccessFacts, canonical, make_entry
from confide_contracts.audit_export import timestamp
from confide_tlog.merkle import leaf_hash
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
    # ingest makes the same document in one step (and formats the batch's recorded_at once)
    for stamp in (None, timestamp(recorded)):
        assert make_entry(3, seq, recorded, facts, GENESIS, stamp).leaf_hash == leaf_hash(data)


def test_the_export_contract_names_every_fact():
    from confide_audit.domain.entry import FACT_FIELDS
    from confide_contracts.audit_export import FACT_FIELDS as EXPORTED

    assert EXPORTED == FACT_FIELDS


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_a_timestamp_in_the_canonical_form_is_its_own_form(instant):
    written = timestamp(instant)
    assert timestamp(written) == written
    assert timestamp(instant.astimezone(timezone(timedelta(hours=-5))).isoformat()) == written


def test_a_string_not_quite_in_the_form_is_read_as_a_time():
    assert timestamp("2026-03-01T09:30:00+01:00") == "2026-03-01T08:30:00.000000Z"
    with pytest.raises(ValueError):
        timestamp("2026-03-01T09:30:00.00000xZ")

