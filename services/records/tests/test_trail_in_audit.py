"""Records and audit together: what a clinician reads in records, and what they
were refused, shows up in the audit trail a compliance officer queries -- over
the real relay, broker and ingest. Events carry no clinical text."""

import pytest
from confide_testing import caller, wait_until
from nameko.exceptions import RemoteError
from records_support import OTHER_SITE, SITE, Clinic
from sqlalchemy import text


@pytest.fixture
def both(rpc_client, records_service, running_service):
    running_service("audit", AUDIT_PARTITIONS=2, AUDIT_FLUSH_MS=20, AUDIT_LOG_NAME="confide.test/audit")
    with rpc_client() as rpc:
        yield rpc


def test_reads_and_refusals_reach_the_audit_trail(both, records_db):
    clinic = Clinic(both.records, records_db)
    cid = clinic.client_id
    clinic.note(clinic.clinician, [cid], [{"body": "Discussed the panic attacks at work."}])
    both.records.list_notes(clinic.clinician, cid)
    nosy = caller("clinician", (OTHER_SITE,))
    with pytest.raises(RemoteError):
        both.records.list_notes(nosy, cid)

    officer = caller("compliance_officer", (), purpose="operations")

    def trail():
        found = both.audit.query(officer, {"client_id": cid, "producer": "records"})["entries"]
        return found if any(e["outcome"] == "denied" for e in found) and len(found) >= 6 else None

    entries = wait_until(trail, timeout=20, what="records' access events in the audit trail")
    kinds = [(e["action"], e["resource_type"], e["outcome"]) for e in entries]
    assert ("create", "Client", "allowed") in kinds
    assert ("sign", "Note", "allowed") in kinds
    assert ("read", "NoteIndex", "denied") in kinds
    denied = next(e for e in entries if e["outcome"] == "denied")
    assert denied["actor_id"] == nosy["user_id"] and "care team" in denied["reason"]

    with records_db.connect() as conn:
        published = conn.execute(text("SELECT message::text FROM outbox")).scalars().all()
    assert published and not any("panic attacks" in m for m in published)


def test_access_outside_the_care_team_is_reported_with_its_basis(both, records_db):
    clinic = Clinic(both.records, records_db)
    cid = clinic.client_id
    both.records.get_client(clinic.clinician, cid)  # care team: inside
    on_call = caller("clinician", (OTHER_SITE, SITE))  # on call for both sites
    both.records.break_glass(on_call, cid, "Client in crisis, seen by the on-call clinician", 30)
    both.records.list_diagnoses(on_call, cid)
    officer = caller("compliance_officer", (), purpose="operations")

    def report():
        rows = [r for r in both.audit.outside_care_team(officer) if r["client_id"] == cid]
        return rows if len(rows) >= 2 else None

    rows = wait_until(report, timeout=20, what="break-the-glass reads in the outside-care-team report")
    assert {(r["actor_id"], r["basis"]) for r in rows} == {(on_call["user_id"], "break_glass")}
    with pytest.raises(RemoteError):
        both.audit.outside_care_team(clinic.clinician)


def test_break_the_glass_is_unreviewed_in_the_trail_until_an_officer_reviews_it(both, records_db):
    clinic = Clinic(both.records, records_db)
    cid = clinic.client_id
    on_call = caller("clinician", (OTHER_SITE, SITE))  # on call for both sites
    grant = both.records.break_glass(on_call, cid, "Client in crisis, primary clinician on leave", 30)
    both.records.list_diagnoses(on_call, cid)
    officer = caller("compliance_officer", (), purpose="operations")

    def unreviewed():
        return [r for r in both.audit.break_glass_unreviewed(officer) if r["client_id"] == cid] or None

    [row] = wait_until(unreviewed, timeout=20, what="the grant in the unreviewed report")
    assert (row["grant_id"], row["actor_id"]) == (grant["id"], on_call["user_id"])
    both.records.review_break_glass(officer, grant["id"], "justified", "Crisis documented in the note")
    wait_until(lambda: not [r for r in both.audit.break_glass_unreviewed(officer) if r["client_id"] == cid],
               timeout=20, what="the reviewed grant to leave the report")
