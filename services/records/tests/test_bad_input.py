"""Bad input is refused with an error that names the field, and nothing is
written (a refused access leaves only its denial in the audit trail)."""

import pytest
from confide_testing import caller
from nameko.exceptions import RemoteError
from records_support import SITE, client_payload

TABLES = ("clients", "guardians", "care_team", "consents", "diagnoses", "treatment_plans", "notes",
          "note_sections", "note_participants", "psychotherapy_notes", "break_glass_grants")


@pytest.fixture
def unchanged(clinic):
    """Asserts, after the test, that no table gained or lost a row."""
    before = {t: clinic.count(t) for t in TABLES}
    yield
    assert {t: clinic.count(t) for t in TABLES} == before


def refused(call, *args) -> RemoteError:
    with pytest.raises(RemoteError) as failure:
        call(*args)
    return failure.value


@pytest.mark.parametrize(("code", "says"), [
    ("F99.9", "not in ICD-10-CM chapter 5"),
    ("F32", "is a category; use a billable code such as F32.0"),
    ("J45.909", "outside chapter 5"),
    ("depression", "is not an ICD-10-CM code"),
])
def test_unknown_or_unbillable_icd10_code(clinic, unchanged, code, says):
    error = refused(clinic.rpc.add_diagnosis, clinic.clinician, clinic.client_id, {"code": code})
    assert error.exc_type == "InvalidRequest"
    assert "code:" in str(error) and says in str(error)


def test_a_code_without_its_dot_is_understood(clinic):
    added = clinic.rpc.add_diagnosis(clinic.clinician, clinic.client_id, {"code": "f4310"})
    assert (added["code"], added["description"]) == ("F43.10", "Post-traumatic stress disorder, unspecified")


def test_note_for_a_client_not_on_the_care_team(clinic):
    stranger = clinic.new_client(primary=caller("clinician", (SITE,)))
    before = [clinic.count(t) for t in ("notes", "note_sections", "note_participants")]
    mark = clinic.outbox_mark()
    error = refused(clinic.rpc.create_note, clinic.clinician, {
        "kind": "progress", "session_kind": "couple", "appointment_id": "appt-1", "service_date": "2026-11-20",
        "site_id": SITE, "client_ids": [clinic.client_id, stranger],
        "sections": [{"body": "joint session"}]})
    assert error.exc_type == "AccessDenied" and "that you may see" in str(error)  # (as for no such client)
    [denial] = clinic.access_events(mark)
    assert (denial["outcome"], denial["action"], denial["resource_type"]) == ("denied", "create", "Note")
    assert "care team" in denial["reason"]  # the trail knows why
    assert [clinic.count(t) for t in ("notes", "note_sections", "note_participants")] == before


def test_consent_with_expiry_in_the_past(clinic, unchanged):
    error = refused(clinic.rpc.record_consent, clinic.clinician, clinic.client_id, {
        "kind": "release_of_information", "recipient": "Dr. Lee", "purpose": "coordination",
        "scope": ["diagnoses"], "expires_on": "2025-01-01", "signed_by": "Robin"})
    assert error.exc_type == "InvalidRequest" and "expires_on:" in str(error) and "expired" in str(error)


@pytest.mark.parametrize(("consent", "field", "says"), [
    ({"kind": "release_of_information", "recipient": "Dr. Lee", "purpose": "care", "scope": ["psychotherapy_notes"],
      "expires_on": "2027-01-01"}, "scope", "own authorization"),
    ({"kind": "psychotherapy_notes_authorization", "recipient": "Dr. Lee", "purpose": "care",
      "scope": ["psychotherapy_notes", "notes"], "expires_on": "2027-01-01"}, "scope", "alone"),
    ({"kind": "release_of_information", "purpose": "care", "scope": ["notes"], "expires_on": "2027-01-01"},
     "recipient", "required"),
    ({"kind": "telepathy"}, "kind", "Must be one of"),
])
def test_consent_rules(clinic, unchanged, consent, field, says):
    error = refused(clinic.rpc.record_consent, clinic.clinician, clinic.client_id, {**consent, "signed_by": "Robin"})
    assert error.exc_type == "InvalidRequest" and f"{field}:" in str(error) and says in str(error)


@pytest.mark.parametrize(("changes", "field"), [
    ({"date_of_birth": "2090-01-01"}, "date_of_birth"),
    ({"email": "not-an-email"}, "email"),
    ({"insurance": {"payer_id": "60054"}}, "insurance.member_id"),
    ({"guardians": [{"name": "P", "relationship": "parent", "may_see": ["psychotherapy_notes"]}]},
     "guardians.0.may_see.0"),
])
def test_client_registration_names_the_bad_field(clinic, unchanged, changes, field):
    error = refused(clinic.rpc.register_client, clinic.front_desk, client_payload(**changes))
    assert error.exc_type == "InvalidRequest" and f"{field}:" in str(error)


@pytest.mark.parametrize(("note", "field"), [
    ({"kind": "progress", "appointment_id": None}, "appointment_id"),
    ({"session_kind": "couple"}, "client_ids"),
    ({"sections": [{"client_id": "01a22222-0000-7000-8000-000000000009", "body": "x"}]}, "sections"),
    ({"sections": []}, "sections"),
    ({"service_date": "2099-01-01"}, "service_date"),
])
def test_bad_notes(clinic, unchanged, note, field):
    payload = {"kind": "progress", "session_kind": "individual", "appointment_id": "appt-1",
               "service_date": "2026-11-20", "site_id": SITE, "client_ids": [clinic.client_id],
               "sections": [{"body": "text"}]}
    error = refused(clinic.rpc.create_note, clinic.clinician, {**payload, **note})
    assert error.exc_type == "InvalidRequest" and f"{field}:" in str(error)


def test_a_bad_caller_identity_is_refused(clinic, unchanged):
    # even signed by the gateway's key, a caller no role fits is not believed
    error = refused(clinic.rpc.get_client, {"user_id": "x", "role": "janitor"}, clinic.client_id)
    assert error.exc_type == "AccessDenied" and "could not be verified" in str(error)
    error = refused(clinic.rpc.get_client, clinic.clinician, "not-a-uuid")
    assert error.exc_type == "InvalidRequest" and "client_id:" in str(error)


def test_changing_demographics(clinic):
    rpc, cid = clinic.rpc, clinic.client_id
    changed = rpc.update_client(clinic.front_desk, cid, {"phone": "+1 555 0199", "pronouns": "they/them"})
    assert (changed["phone"], changed["pronouns"], changed["given_name"]) == ("+1 555 0199", "they/them", "Robin")
    for changes, field in (({"email": "nope"}, "email"), ({"home_site_id": "elsewhere"}, "home_site_id"),
                           ({}, "changes")):
        error = refused(rpc.update_client, clinic.front_desk, cid, changes)
        assert error.exc_type == "InvalidRequest" and f"{field}:" in str(error)
    assert rpc.get_client(clinic.front_desk, cid)["phone"] == "+1 555 0199"
    biller = caller("biller", (SITE,))
    assert refused(rpc.update_client, biller, cid, {"phone": "+1 555 0100"}).exc_type == "AccessDenied"
