"""Every role against every kind of record, through the running service: allowed
or denied as DESIGN.md and the records issue say, and each attempt leaves
exactly one access event in the outbox, committed with the answer."""

import pytest
from confide_testing import caller, random_id, wait_for_handled
from nameko.exceptions import RemoteError
from records_support import OTHER_SITE, SITE, start_supervision

KINDS = ("demographics", "care_team", "consents", "diagnoses", "treatment_plans", "notes", "psychotherapy_notes")

# role -> kinds allowed (everything else must be denied)
EXPECTED = {
    "clinician on the care team": set(KINDS),
    "clinician elsewhere": set(),
    "supervisor of a care-team clinician": set(KINDS) - {"psychotherapy_notes"},
    "supervisor of nobody here": set(),
    "front desk of the client's site": {"demographics", "care_team", "consents"},
    "front desk of another site": set(),
    "biller of the client's site": {"demographics", "diagnoses"},
    "biller of another site": set(),
    "admin of the client's site": {"demographics", "care_team"},
    "compliance officer": {"demographics", "care_team", "consents"},
    "credentialing officer": set(),
    "the client": set(KINDS) - {"psychotherapy_notes"},
    "another client": set(),
    "guardian (demographics, consents)": {"demographics", "consents"},
    "clinician breaking the glass": set(KINDS) - {"psychotherapy_notes"},
}


# the basis an allowed access records (the audit trail's outside-care-team report reads it)
BASIS = {
    "clinician on the care team": ("care_team:", "author:"),
    "supervisor of a care-team clinician": "supervision:",
    "front desk of the client's site": "site_staff:",
    "biller of the client's site": "site_staff:",
    "admin of the client's site": "site_staff:",
    "compliance officer": "compliance:",
    "the client": "self:",
    "guardian (demographics, consents)": "guardian:",
    "clinician breaking the glass": "break_glass:",
}


@pytest.fixture
def record(clinic, records_db):
    """One client's full record: care team (primary clinician and a pre-licensed
    associate), consent, diagnosis, plan, a signed note, a psychotherapy note."""
    rpc, cid = clinic.rpc, clinic.client_id
    associate = caller("clinician", (SITE,))
    supervisor = caller("supervisor", (SITE,))
    clinic.join(cid, associate)
    event = start_supervision(records_db, supervisor, associate)
    wait_for_handled(records_db, "records.on_supervision", event.id)
    guardian_user = random_id("guardian")
    clinic.guardian(cid, guardian_user, ["demographics", "consents"])
    rpc.record_consent(clinic.clinician, cid, {"kind": "treatment", "signed_by": "Robin Hale"})
    rpc.add_diagnosis(clinic.clinician, cid, {"code": "F41.1"})
    rpc.create_treatment_plan(clinic.clinician, cid, {"goals": [{"description": "Fewer panic episodes"}],
                                                      "review_on": "2027-02-01"})
    note = clinic.note(clinic.clinician, [cid], [{"body": "Worked on exposure hierarchy."}])
    rpc.write_psychotherapy_note(clinic.clinician, {"client_id": cid, "service_date": "2026-11-20",
                                                    "body": "My countertransference today...", "sign": True})
    glass = caller("clinician", (OTHER_SITE, SITE))  # on call for both sites
    rpc.break_glass(glass, cid, "Client in crisis at the other site, on-call clinician", 30)
    callers = {
        "clinician on the care team": clinic.clinician,
        "clinician elsewhere": caller("clinician", (SITE,)),
        "supervisor of a care-team clinician": supervisor,
        "supervisor of nobody here": caller("supervisor", (SITE,)),
        "front desk of the client's site": caller("front_desk", (SITE,)),
        "front desk of another site": caller("front_desk", (OTHER_SITE,)),
        "biller of the client's site": caller("biller", (SITE,), purpose="payment"),
        "biller of another site": caller("biller", (OTHER_SITE,), purpose="payment"),
        "admin of the client's site": caller("admin", (SITE,), purpose="operations"),
        "compliance officer": caller("compliance_officer", (), purpose="operations"),
        "credentialing officer": caller("credentialing_officer", (SITE,), purpose="operations"),
        "the client": clinic.as_client(),
        "another client": caller("client", (), purpose="client_request"),
        "guardian (demographics, consents)": caller("client", (), user_id=guardian_user,
                                                    on_behalf_of=cid, purpose="client_request"),
        "clinician breaking the glass": glass,
    }
    return callers, note


def read(rpc, kind, who, cid, note):
    calls = {
        "demographics": lambda: rpc.get_client(who, cid),
        "care_team": lambda: rpc.get_care_team(who, cid),
        "consents": lambda: rpc.list_consents(who, cid),
        "diagnoses": lambda: rpc.list_diagnoses(who, cid),
        "treatment_plans": lambda: rpc.list_treatment_plans(who, cid),
        "notes": lambda: rpc.get_note(who, note, cid),
        "psychotherapy_notes": lambda: rpc.get_psychotherapy_notes(who, cid),
    }
    return calls[kind]()


def test_every_role_against_every_kind_of_record(clinic, record):
    callers, note = record
    cid = clinic.client_id
    wrong = []
    for role, who in callers.items():
        for kind in KINDS:
            mark = clinic.outbox_mark()
            try:
                answer = read(clinic.rpc, kind, who, cid, note)
                outcome = "allowed"
            except RemoteError as exc:
                assert exc.exc_type == "AccessDenied", f"{role} reading {kind}: {exc}"
                answer, outcome = None, "denied"
            expected = "allowed" if kind in EXPECTED[role] else "denied"
            if outcome != expected:
                wrong.append(f"{role} reading {kind}: {outcome}, expected {expected}")
            events = clinic.access_events(mark)
            if len(events) != 1:
                wrong.append(f"{role} reading {kind}: {len(events)} access events")
                continue
            event = events[0]
            if (event["outcome"], event["client_id"], event["actor"]["id"]) != (outcome, cid, who["user_id"]):
                wrong.append(f"{role} reading {kind}: recorded {event}")
            if role == "clinician breaking the glass" and outcome == "allowed":
                if not event["break_glass"] or event["purpose"] != "emergency":
                    wrong.append(f"break-the-glass read of {kind} not flagged: {event}")
            if outcome == "denied" and not event["reason"]:
                wrong.append(f"{role} reading {kind}: denial without a reason")
            if outcome == "allowed" and not (event["reason"] or "").startswith(BASIS[role]):
                wrong.append(f"{role} reading {kind}: recorded basis {event['reason']!r}, expected {BASIS[role]}")
            if kind == "psychotherapy_notes" and answer is not None:
                assert [n["body"] for n in answer] == ["My countertransference today..."]
    assert not wrong, "\n".join(wrong)


def test_minimum_necessary_in_what_is_returned(clinic, record):
    callers, note = record
    view = clinic.rpc.get_note(callers["the client"], note, clinic.client_id)
    assert view["sections"][0]["body"] == "Worked on exposure hierarchy."
    # the biller sees codes, never the note; the front desk sees who treats, not why
    diagnoses = clinic.rpc.list_diagnoses(callers["biller of the client's site"], clinic.client_id)
    assert [(d["code"], d["description"]) for d in diagnoses] == [("F41.1", "Generalized anxiety disorder")]


def test_unknown_client_is_answered_as_one_not_yours_and_the_attempt_recorded(clinic):
    mark = clinic.outbox_mark()
    missing = "01a22222-0000-7000-8000-000000000000"
    with pytest.raises(RemoteError) as failure:
        clinic.rpc.get_client(clinic.clinician, missing)
    assert failure.value.exc_type == "AccessDenied" and "that you may see" in str(failure.value)
    [event] = clinic.access_events(mark)
    assert event["outcome"] == "denied" and event["reason"] == f"no client {missing}"
