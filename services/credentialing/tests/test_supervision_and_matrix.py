"""Supervision (the supervisor must be licensed there) and the licensure answer
from the service's own records, for one clinician and as a matrix."""

import pytest
from cred_support import OFFICER, clinician, licensed, outbox
from nameko.exceptions import RemoteError

TODAY_ASK = {"service_kind": "individual_psychotherapy", "modality": "telehealth"}


def test_an_associate_practises_under_a_licensed_supervisor(cred, cred_db):
    associate, supervisor = clinician(cred), clinician(cred)
    licensed(cred, associate, "counselor_associate", "US-NY")
    licensed(cred, supervisor, "lpc", "US-NJ")
    ask = {**TODAY_ASK, "client_jurisdiction": "US-NY"}
    answer = cred.may_practice(OFFICER, associate, ask)
    assert not answer["allowed"] and "needs an active supervision in US-NY" in answer["reasons"][0]

    supervision = {"supervisor_id": supervisor, "supervisee_id": associate, "jurisdiction": "US-NY",
                   "starts_on": "2026-01-01"}
    with pytest.raises(RemoteError) as refused:
        cred.start_supervision(OFFICER, supervision)
    assert "supervisor_id:" in str(refused.value) and "no independent licence in force in US-NY" in str(refused.value)

    licensed(cred, supervisor, "lpc", "US-NY")
    started = cred.start_supervision(OFFICER, supervision)
    answer = cred.may_practice(OFFICER, associate, ask)
    assert answer["allowed"] and f"supervised by {supervisor}" in answer["basis"][0]
    [event] = [m for m in outbox(cred_db, "credentialing.supervision") if m["payload"]["supervisee_id"] == associate]
    assert event["type"] == "credentialing.supervision.started"

    cred.end_supervision(OFFICER, started["id"], "2026-02-01")
    assert not cred.may_practice(OFFICER, associate, ask)["allowed"]
    assert outbox(cred_db, "credentialing.supervision")[-1]["type"] == "credentialing.supervision.ended"


def test_a_supervisors_matrix(cred):
    psychologist, counselor, therapist = clinician(cred), clinician(cred), clinician(cred)
    licensed(cred, psychologist, "psychologist", "US-PA")
    licensed(cred, counselor, "lpc", "US-OH")
    licensed(cred, therapist, "lmft", "US-NY")
    matrix = cred.licensure_matrix(OFFICER, {"clinician_ids": [psychologist, counselor, therapist],
                                             "jurisdictions": ["US-PA", "US-NJ", "US-NY"], **TODAY_ASK})
    grid = {row["clinician_id"]: {j: cell["allowed"] for j, cell in row["jurisdictions"].items()}
            for row in matrix["rows"]}
    assert grid == {
        psychologist: {"US-PA": True, "US-NJ": True, "US-NY": False},   # PSYPACT; NY is not a member
        counselor: {"US-PA": False, "US-NJ": True, "US-NY": False},     # Counseling Compact; PA, NY not members
        therapist: {"US-PA": False, "US-NJ": False, "US-NY": True},     # no compact for LMFTs
    }
    cell = matrix["rows"][0]["jurisdictions"]["US-NY"]
    assert "US-NY is not a member" in cell["reasons"][0]


def test_questions_that_cannot_be_asked(cred):
    dr = clinician(cred)
    with pytest.raises(RemoteError) as refused:
        cred.may_practice(OFFICER, dr, {**TODAY_ASK, "client_jurisdiction": "XX-YY"})
    assert "client_jurisdiction:" in str(refused.value)
    with pytest.raises(RemoteError) as refused:
        cred.licensure_matrix(OFFICER, {"clinician_ids": [dr, "ghost"], "jurisdictions": ["US-NY"], **TODAY_ASK})
    assert "clinician_ids:" in str(refused.value) and "ghost" in str(refused.value)
