"""Consents, their revocation, and disclosures under them: recorded as
disclosure access events; psychotherapy notes only under their own
authorization, by their author."""

import pytest
from confide_testing import caller, random_id
from nameko.exceptions import RemoteError
from records_support import SITE

ROI = {"kind": "release_of_information", "recipient": "Dr. Lee, primary care", "purpose": "coordination of care",
       "scope": ["diagnoses"], "expires_on": "2027-06-01", "signed_by": "Robin Hale"}


def test_disclosure_releases_the_scope_and_is_recorded(clinic):
    rpc, me, cid = clinic.rpc, clinic.clinician, clinic.client_id
    rpc.add_diagnosis(me, cid, {"code": "F33.1"})
    clinic.note(me, [cid], [{"body": "not in scope"}])
    consent = rpc.record_consent(clinic.front_desk, cid, ROI)
    assert consent["state"] == "active"
    mark = clinic.outbox_mark()
    released = rpc.disclose(me, cid, consent["id"])
    assert [d["code"] for d in released["diagnoses"]] == ["F33.1"]
    assert "notes" not in released and "client" not in released
    [event] = clinic.access_events(mark)
    assert (event["action"], event["purpose"], event["recipient"]) == ("disclose", "disclosure", ROI["recipient"])


def test_a_revoked_consent_releases_nothing(clinic):
    rpc, me, cid = clinic.rpc, clinic.clinician, clinic.client_id
    consent = rpc.record_consent(me, cid, ROI)
    revoked = rpc.revoke_consent(me, consent["id"], "client withdrew consent")
    assert revoked["state"] == "revoked"
    with pytest.raises(RemoteError) as refused:
        rpc.disclose(me, cid, consent["id"])
    assert refused.value.exc_type == "InvalidRequest" and "revoked" in str(refused.value)


def test_psychotherapy_notes_only_under_their_authorization_by_their_author(clinic):
    rpc, me, cid = clinic.rpc, clinic.clinician, clinic.client_id
    rpc.write_psychotherapy_note(me, {"client_id": cid, "service_date": "2026-11-20", "body": "process notes"})
    roi = rpc.record_consent(me, cid, {**ROI, "scope": ["notes", "diagnoses", "treatment_plans"]})
    assert "process notes" not in str(rpc.disclose(me, cid, roi["id"]))
    assert "process notes" not in str(rpc.export_record(me, cid))

    authorization = rpc.record_consent(me, cid, {**ROI, "kind": "psychotherapy_notes_authorization",
                                                 "scope": ["psychotherapy_notes"], "recipient": "Forensic evaluator"})
    released = rpc.disclose(me, cid, authorization["id"])
    assert [n["body"] for n in released["psychotherapy_notes"]] == ["process notes"]
    colleague = caller("clinician", (SITE,))
    clinic.join(cid, colleague)
    assert rpc.disclose(colleague, cid, authorization["id"])["psychotherapy_notes"] == []


def test_guardian_rights_are_as_recorded(clinic):
    rpc, cid = clinic.rpc, clinic.client_id
    pat_login = random_id("guardian-pat")
    clinic.guardian(cid, pat_login, ["demographics", "treatment_plans"])
    pat = caller("client", (), user_id=pat_login, on_behalf_of=cid, purpose="client_request")
    rpc.create_treatment_plan(clinic.clinician, cid, {"goals": [{"description": "Attend school daily"}],
                                                      "review_on": "2027-01-15"})
    exported = rpc.export_record(pat, cid)
    assert set(exported) >= {"client", "treatment_plans"} and "notes" not in exported and "diagnoses" not in exported
