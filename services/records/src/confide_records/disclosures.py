"""The record leaving the clinic: a copy for the client or a clinician (what
each may read), and disclosures under an active consent to its named recipient,
recorded as disclosures for the accounting of disclosures."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from confide_access import Purpose
from confide_contracts.errors import invalid

from confide_records import clinical, notes, psychotherapy_notes, store
from confide_records.access import Access, Work
from confide_records.domain import policy as p
from confide_records.domain.policy import Kind
from confide_records.sealing import Sealers

RELEASING = ("release_of_information", "psychotherapy_notes_authorization")


def export(sealers: Sealers, client_id) -> Work:
    def work(a: Access):
        relation = a.relations[str(client_id)]
        kinds = [k for k in p.WHOLE_RECORD if p.may_read(a.caller, k, relation).allowed]
        a.resource_id = "export"
        return bundle(sealers, a.conn, client_id, kinds)
    return work


def disclose(sealers: Sealers, client_id, consent_id) -> Work:
    """What an active consent covers; psychotherapy notes only under an
    authorization for them alone, and only the discloser's own."""
    def work(a: Access):
        consent = store.consent(a.conn, consent_id, client_id)
        if consent is None:
            raise invalid("consent_id", "is not a consent of this client")
        if consent["kind"] not in RELEASING:
            raise invalid("consent_id", f"a {consent['kind']} consent releases nothing")
        if consent["state"] != "active":
            raise invalid("consent_id", f"is {consent['state']}")
        a.caller = replace(a.caller, purpose=Purpose.DISCLOSURE)
        a.recipient = consent["recipient"]
        a.resource_id = str(consent_id)
        if consent["kind"] == "psychotherapy_notes_authorization":
            released = {"client_id": str(client_id), "psychotherapy_notes": psychotherapy_notes.of_author(
                sealers, a.conn, client_id, a.caller.user_id)}
        else:
            released = bundle(sealers, a.conn, client_id, [Kind(k) for k in consent["scope"]])
        released["disclosed_to"] = consent["recipient"]
        released["under_consent"] = str(consent_id)
        return released
    return work


def bundle(sealers: Sealers, conn, client_id, kinds) -> dict[str, Any]:
    """The listed kinds of one client's record; notes show only the sections
    that concern this client. Psychotherapy notes are never part of it."""
    out: dict[str, Any] = {"client_id": str(client_id), "generated_at": store.now().isoformat()}
    if Kind.DEMOGRAPHICS in kinds:
        out["client"] = store.client(conn, client_id)
    if Kind.CARE_TEAM in kinds:
        out["care_team"] = store.care_team(conn, client_id)
    if Kind.CONSENTS in kinds:
        out["consents"] = store.consents(conn, client_id)
    if Kind.DIAGNOSES in kinds:
        out["diagnoses"] = store.diagnoses(conn, client_id)
    if Kind.TREATMENT_PLANS in kinds:
        out["treatment_plans"] = clinical.plans(sealers, conn, client_id)
    if Kind.NOTES in kinds:
        views = []
        for entry in store.note_index(conn, client_id):  # signed only: drafts are not part of the record yet
            header, participants = store.note_header(conn, entry["id"])
            views.append(notes.view(sealers, conn, header, participants, client_id))
        out["notes"] = views
    return out
