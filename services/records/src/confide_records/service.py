"""The records service's entrypoints: a table of contents. Every call that
touches a client's record goes through ``access.through_policy``: the facts
relating caller and client are read, the policy (``domain/policy.py``) decides,
the work (a use case module) is done and the access event written to the outbox,
in one transaction that commits before anything is returned (DESIGN.md "audit
first"). Work queues and notifications are ``queues``; the SQL is ``store``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import confide_contracts  # noqa: F401 - registers the event schemas used here
from confide_access import Action, Caller, Purpose, enforce, load, open_rpc, rpc
from confide_contracts.errors import EXPECTED, NotFound, invalid
from confide_contracts.projections import SUPERVISION_EVENTS
from confide_contracts.rpc import records as s
from confide_messaging import OutboxRelayRunner, UnitOfWorkProvider, handles

from confide_records import break_glass, clients, clinical, consents, disclosures, linking, notes, search, store
from confide_records import psychotherapy_notes as therapy_notes
from confide_records.access import Decide, Work, client_id_of, decider, id_of, through_policy
from confide_records.domain import policy as p
from confide_records.domain.policy import Kind
from confide_records.queues import WorkQueues
from confide_records.sealing import Sealers, Sealing


class RecordsService(WorkQueues):
    name = "records"

    uow = UnitOfWorkProvider()
    relay = OutboxRelayRunner()
    sealing: Sealers = Sealing()

    def _access(self, caller: Caller, client_ids: list, *, action: Action, resource_type: str, work: Work,
                kind: Kind | None = None, write: bool = False, decide: Decide | None = None,
                resource_id: str | None = None) -> Any:
        """Decide (``decide``, or the policy for ``kind``), work, record: one transaction."""
        return through_policy(self.uow, caller, client_ids, action=action, resource_type=resource_type, work=work,
                              decide=decide or decider(kind, write), resource_id=resource_id)

    # --- clients -----------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def register_client(self, caller: Caller, client: dict) -> dict[str, Any]:
        """Register a client at their home site (front desk, admin, clinicians of that site)."""
        data = load(s.ClientSchema(), client)
        enforce(self.uow, caller, p.may_register(caller, data["home_site_id"]), action=Action.CREATE,
                resource_type="Client")
        with self.uow() as uow:
            return clients.register(uow, caller, data)

    @rpc(expected_exceptions=EXPECTED)
    def get_client(self, caller: Caller, client_id: str) -> dict[str, Any]:
        """Demographics, contacts, insurance and guardians."""
        cid = client_id_of(client_id)
        return self._access(caller, [cid], kind=Kind.DEMOGRAPHICS, action=Action.READ, resource_type="Client",
                            resource_id=str(cid), work=clients.read(cid))

    @rpc(expected_exceptions=EXPECTED)
    def search_clients(self, caller: Caller, query: dict) -> dict[str, Any]:
        """Find clients (``search``): name forgiving typos and accents, date of birth, phone, record number."""
        q = load(s.ClientSearchSchema(), query)
        enforce(self.uow, caller, p.may_search(caller, q["site_id"]), action=Action.SEARCH, resource_type="Client")
        with self.uow() as uow:
            return search.find(uow, caller, q)

    @rpc(expected_exceptions=EXPECTED)
    def update_client(self, caller: Caller, client_id: str, changes: dict) -> dict[str, Any]:
        cid = client_id_of(client_id)
        data = load(s.ClientChangesSchema(), changes, partial=True)
        if not data:
            raise invalid("changes", "nothing to change")
        return self._access(caller, [cid], kind=Kind.DEMOGRAPHICS, write=True, action=Action.UPDATE,
                            resource_type="Client", resource_id=str(cid), work=clients.update(cid, data))

    @rpc(expected_exceptions=EXPECTED)
    def add_guardian(self, caller: Caller, client_id: str, guardian: dict) -> dict[str, Any]:
        """Record a guardian and what they may see of the client's record."""
        cid = client_id_of(client_id)
        data = load(s.GuardianSchema(), guardian)
        return self._access(caller, [cid], kind=Kind.DEMOGRAPHICS, write=True, action=Action.CREATE,
                            resource_type="Guardian", work=clients.add_guardian(cid, data))

    @rpc(expected_exceptions=EXPECTED)
    def approve_guardian_rights(self, caller: Caller, client_id: str, guardian_id: str) -> dict[str, Any]:
        """Grant the clinical rights staff asked for a guardian (a clinician on the care team)."""
        cid, gid = client_id_of(client_id), id_of(guardian_id)
        return self._access(caller, [cid], decide=p.may_approve_guardian, action=Action.UPDATE,
                            resource_type="Guardian", resource_id=str(gid), work=linking.approve_guardian(cid, gid))

    # --- logins, linked by invitation only ----------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def invite_login(self, caller: Caller, client_id: str, invitation: dict) -> dict[str, Any]:
        """A one-time code that links the client's own login, or a guardian's, when they redeem it."""
        cid = client_id_of(client_id)
        data = load(s.InvitationSchema(), invitation)
        return self._access(caller, [cid], kind=Kind.DEMOGRAPHICS, write=True, action=Action.CREATE,
                            resource_type=linking.INVITATION, work=linking.invite(cid, data))

    @rpc(expected_exceptions=EXPECTED)
    def redeem_invitation(self, caller: Caller, code: str) -> dict[str, Any]:
        """Link the signed-in person's own login to the record the code was made for."""
        return linking.redeem(self.uow, caller, load(s.RedemptionSchema(), {"code": code})["code"])

    @rpc(expected_exceptions=EXPECTED)
    def acting_for(self, caller: Caller, other: str) -> dict[str, Any]:
        """May the caller act on behalf of ``other`` (X-On-Behalf-Of)? Only along a relation recorded here."""
        return linking.acting_for(self.uow, caller, load(s.OnBehalfSchema(), {"other": other})["other"])

    # --- care team ---------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def assign_care_team(self, caller: Caller, client_id: str, member: dict) -> list[dict[str, Any]]:
        cid = client_id_of(client_id)
        data = load(s.CareTeamSchema(), member)
        return self._access(caller, [cid], kind=Kind.CARE_TEAM, write=True, action=Action.UPDATE,
                            resource_type="CareTeam", work=clients.join_care_team(cid, data))

    @rpc(expected_exceptions=EXPECTED)
    def end_care_team(self, caller: Caller, client_id: str, clinician_id: str) -> list[dict[str, Any]]:
        cid = client_id_of(client_id)
        return self._access(caller, [cid], kind=Kind.CARE_TEAM, write=True, action=Action.UPDATE,
                            resource_type="CareTeam", work=clients.leave_care_team(cid, clinician_id))

    @rpc(expected_exceptions=EXPECTED)
    def get_care_team(self, caller: Caller, client_id: str) -> list[dict[str, Any]]:
        cid = client_id_of(client_id)
        return self._access(caller, [cid], kind=Kind.CARE_TEAM, action=Action.READ, resource_type="CareTeam",
                            work=clients.care_team(cid))

    # --- consents ----------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def record_consent(self, caller: Caller, client_id: str, consent: dict) -> dict[str, Any]:
        cid = client_id_of(client_id)
        data = load(s.ConsentSchema(), consent)
        return self._access(caller, [cid], kind=Kind.CONSENTS, write=True, action=Action.CREATE,
                            resource_type="Consent", work=consents.record(cid, data))

    @rpc(expected_exceptions=EXPECTED)
    def revoke_consent(self, caller: Caller, consent_id: str, reason: str) -> dict[str, Any]:
        kid = id_of(consent_id)
        why = load(s.RevocationSchema(), {"reason": reason})["reason"]
        with self.uow() as uow:
            found = consents.find(uow, kid)
        if found is None:
            raise NotFound(f"no consent {consent_id}")
        return self._access(caller, [found["client_id"]], kind=Kind.CONSENTS, write=True, action=Action.UPDATE,
                            resource_type="Consent", resource_id=str(kid), work=consents.revoke(found, why))

    @rpc(expected_exceptions=EXPECTED)
    def list_consents(self, caller: Caller, client_id: str) -> list[dict[str, Any]]:
        cid = client_id_of(client_id)
        return self._access(caller, [cid], kind=Kind.CONSENTS, action=Action.READ, resource_type="Consent",
                            work=consents.listed(cid))

    # --- diagnoses and treatment plans --------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def add_diagnosis(self, caller: Caller, client_id: str, diagnosis: dict) -> dict[str, Any]:
        cid = client_id_of(client_id)
        data = load(s.DiagnosisSchema(), diagnosis)
        return self._access(caller, [cid], kind=Kind.DIAGNOSES, write=True, action=Action.CREATE,
                            resource_type="Condition", work=clinical.add_diagnosis(cid, data))

    @rpc(expected_exceptions=EXPECTED)
    def list_diagnoses(self, caller: Caller, client_id: str) -> list[dict[str, Any]]:
        cid = client_id_of(client_id)
        return self._access(caller, [cid], kind=Kind.DIAGNOSES, action=Action.READ, resource_type="Condition",
                            work=clinical.diagnoses(cid))

    @rpc(expected_exceptions=EXPECTED)
    def create_treatment_plan(self, caller: Caller, client_id: str, plan: dict) -> dict[str, Any]:
        cid = client_id_of(client_id)
        data = load(s.TreatmentPlanSchema(), plan)
        goals = s.TreatmentPlanSchema().dump(data)["goals"]
        return self._access(caller, [cid], kind=Kind.TREATMENT_PLANS, write=True, action=Action.CREATE,
                            resource_type="CarePlan", work=clinical.create_plan(self.sealing, cid, data, goals))

    @rpc(expected_exceptions=EXPECTED)
    def list_treatment_plans(self, caller: Caller, client_id: str) -> list[dict[str, Any]]:
        cid = client_id_of(client_id)
        return self._access(caller, [cid], kind=Kind.TREATMENT_PLANS, action=Action.READ, resource_type="CarePlan",
                            work=clinical.listed_plans(self.sealing, cid))

    # --- notes -------------------------------------------------------------------
    def _note(self, note_id) -> tuple[Any, list[str]]:
        with self.uow() as uow:
            return notes.header(uow, note_id)

    @rpc(expected_exceptions=EXPECTED)
    def create_note(self, caller: Caller, note: dict) -> dict[str, Any]:
        """A draft note of one session; a section concerns one client or (no ``client_id``) the session.
        The author is on the care team of every client in it."""
        data = load(s.NoteSchema(), note)
        return self._access(caller, data["client_ids"], kind=Kind.NOTES, write=True, action=Action.CREATE,
                            resource_type="Note", work=notes.create(self.sealing, data))

    @rpc(expected_exceptions=EXPECTED)
    def update_note(self, caller: Caller, note_id: str, changes: dict) -> dict[str, Any]:
        """Replace a draft's sections (author only). A signed note is locked."""
        nid = id_of(note_id)
        data = load(s.NoteChangesSchema(), changes)
        header, participants = self._note(nid)
        notes.check_sections(data["sections"], participants)
        return self._access(caller, participants, action=Action.UPDATE, resource_type="Note", resource_id=str(nid),
                            decide=lambda c, r: p.author_only(c, r, header.author_id, "change"),
                            work=notes.update(self.sealing, nid, data["sections"]))

    @rpc(expected_exceptions=EXPECTED)
    def sign_note(self, caller: Caller, note_id: str) -> dict[str, Any]:
        """Sign and lock a draft (author only); a pre-licensed author's waits for a co-signature."""
        nid = id_of(note_id)
        header, participants = self._note(nid)
        return self._access(caller, participants, action=Action.SIGN, resource_type="Note", resource_id=str(nid),
                            decide=lambda c, r: p.author_only(c, r, header.author_id, "sign"),
                            work=notes.sign(self.sealing, nid, participants))

    @rpc(expected_exceptions=EXPECTED)
    def cosign_note(self, caller: Caller, note_id: str) -> dict[str, Any]:
        """Co-sign a supervisee's signed note (their supervisor on the service date)."""
        nid = id_of(note_id)
        _header, participants = self._note(nid)
        return self._access(caller, participants, decide=lambda c, r: p.may_cosign(c), action=Action.SIGN,
                            resource_type="Note", resource_id=str(nid), work=notes.cosign(nid))

    @rpc(expected_exceptions=EXPECTED)
    def add_addendum(self, caller: Caller, note_id: str, addendum: dict) -> dict[str, Any]:
        """A signed addendum to a signed note, concerning one client or the whole session."""
        nid = id_of(note_id)
        data = load(s.AddendumSchema(), addendum)
        _header, participants = self._note(nid)
        return self._access(caller, notes.concerning(participants, data["client_id"]), kind=Kind.NOTES, write=True,
                            action=Action.CREATE, resource_type="Note",
                            work=notes.add_addendum(self.sealing, nid, data))

    @rpc(expected_exceptions=EXPECTED)
    def get_note(self, caller: Caller, note_id: str, client_id: str) -> dict[str, Any]:
        """A note as ``client_id``'s record shows it: the session's sections, theirs, their addenda."""
        nid = id_of(note_id)
        cid = client_id_of(client_id)
        header, participants = self._note(nid)
        if str(cid) not in participants:
            raise NotFound(f"note {note_id} is not in client {client_id}'s record")
        return self._access(caller, [cid], action=Action.READ, resource_type="Note", resource_id=str(nid),
                            decide=lambda c, r: p.may_read_note(c, r, header.status, header.author_id),
                            work=notes.read(self.sealing, header, participants, cid))

    @rpc(expected_exceptions=EXPECTED)
    def list_notes(self, caller: Caller, client_id: str) -> list[dict[str, Any]]:
        """The client's notes (headers, no text), newest first."""
        cid = client_id_of(client_id)
        return self._access(caller, [cid], kind=Kind.NOTES, action=Action.READ, resource_type="NoteIndex",
                            work=notes.index(cid))

    # --- psychotherapy notes ------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def write_psychotherapy_note(self, caller: Caller, note: dict) -> dict[str, Any]:
        """Process notes kept apart from the record, under their own key, for their author alone."""
        data = load(s.PsychotherapyNoteSchema(), note)
        return self._access(caller, [data["client_id"]], kind=Kind.PSYCHOTHERAPY_NOTES, write=True,
                            action=Action.CREATE, resource_type="PsychotherapyNote",
                            work=therapy_notes.write(self.sealing, data))

    @rpc(expected_exceptions=EXPECTED)
    def get_psychotherapy_notes(self, caller: Caller, client_id: str) -> list[dict[str, Any]]:
        """The caller's own psychotherapy notes about ``client_id`` (nobody else's, ever)."""
        cid = client_id_of(client_id)
        return self._access(caller, [cid], decide=p.may_read_psychotherapy_notes, action=Action.READ,
                            resource_type="PsychotherapyNote",
                            work=therapy_notes.read_own(self.sealing, cid, caller.user_id))

    @rpc(expected_exceptions=EXPECTED)
    def sign_psychotherapy_note(self, caller: Caller, note_id: str) -> dict[str, Any]:
        nid = id_of(note_id)
        with self.uow() as uow:
            row = therapy_notes.find(uow, nid)
        return self._access(caller, [row.client_id], action=Action.SIGN, resource_type="PsychotherapyNote",
                            resource_id=str(nid), work=therapy_notes.sign(self.sealing, nid),
                            decide=lambda c, r: p.may_read(c, Kind.PSYCHOTHERAPY_NOTES, r, row.author_id))

    # --- break the glass ----------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def break_glass(self, caller: Caller, client_id: str, reason: str, minutes: int = 60) -> dict[str, Any]:
        """Emergency access outside the care team for ``minutes``: flagged on every access, reviewed,
        the primary clinician told. Never psychotherapy notes."""
        data = load(s.BreakGlassSchema(), {"client_id": client_id, "reason": reason, "minutes": minutes})
        who = replace(caller, break_glass_reason=data["reason"], purpose=Purpose.EMERGENCY)
        return self._access(who, [data["client_id"]], decide=lambda c, r: p.may_break_glass(c, r, 0),
                            action=Action.READ, resource_type="BreakGlassGrant",
                            work=break_glass.open_grant(who, data["client_id"], data["reason"], data["minutes"]))

    @rpc(expected_exceptions=EXPECTED)
    def break_glass_reviews(self, caller: Caller, status: str = "pending") -> list[dict[str, Any]]:
        """The compliance officers' queue of break-the-glass grants."""
        wanted = break_glass.wanted(status)
        who = break_glass.reviewer(self.uow, caller, Action.READ, break_glass.REVIEW_QUEUE)
        with self.uow() as uow:
            return break_glass.queue(uow, who, wanted)

    @rpc(expected_exceptions=EXPECTED)
    def review_break_glass(self, caller: Caller, grant_id: str, outcome: str, comment: str) -> dict[str, Any]:
        gid = id_of(grant_id)
        data = load(s.ReviewSchema(), {"outcome": outcome, "comment": comment})
        who = break_glass.reviewer(self.uow, caller, Action.UPDATE, str(gid))
        with self.uow() as uow:
            return break_glass.review(uow, who, gid, data)

    # --- exports and disclosures ----------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def export_record(self, caller: Caller, client_id: str) -> dict[str, Any]:
        """What of the record the caller may see, as one document (never psychotherapy notes)."""
        cid = client_id_of(client_id)
        return self._access(caller, [cid], decide=p.may_export, action=Action.EXPORT, resource_type="ClientRecord",
                            work=disclosures.export(self.sealing, cid))

    @rpc(expected_exceptions=EXPECTED)
    def disclose(self, caller: Caller, client_id: str, consent_id: str) -> dict[str, Any]:
        """Release what an active consent covers to its recipient, recorded as a disclosure.
        Psychotherapy notes only under an authorization for them alone, by their author."""
        cid = client_id_of(client_id)
        kid = id_of(consent_id)
        return self._access(caller, [cid], decide=p.may_disclose, action=Action.DISCLOSE, resource_type="Disclosure",
                            work=disclosures.disclose(self.sealing, cid, kid))

    # --- projections of other services' events --------------------------------------
    @handles(*SUPERVISION_EVENTS)
    def on_supervision(self, event) -> None:
        """Who supervises whom, as credentialing records it."""
        with self.uow(handling=event) as uow:
            store.project_supervision(uow.session.connection(), event.payload)

    @open_rpc
    def health(self) -> dict[str, Any]:
        with self.uow() as uow:
            store.ping(uow.session.connection())
        return {"status": "ok"}
