"""The records service's entrypoints.

Every call that touches a client's record goes through :meth:`RecordsService._access`:
the facts relating caller and client are read, the policy decides, the work is
done and the access event is written to the outbox -- all in one transaction
that commits before anything is returned (DESIGN.md "audit first"). A refusal
is committed as a denied access event of its own, then raised. Clinical text is
decrypted only inside that transaction, after the decision.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import confide_contracts  # noqa: F401 - registers the event schemas used here
import orjson
from confide_access import (
    AccessDenied,
    Action,
    Caller,
    CallerSchema,
    Purpose,
    deny,
    load,
    record_access,
)
from confide_contracts import records as events
from confide_contracts.errors import EXPECTED, NotFound, RecordIntegrityError, invalid
from confide_contracts.projections import SUPERVISION_EVENTS, apply_supervision
from confide_messaging import OutboxRelayRunner, UnitOfWork, UnitOfWorkProvider, handles
from confide_persistence import plain
from marshmallow import ValidationError
from nameko.rpc import rpc
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from confide_records import models as m
from confide_records import store
from confide_records.domain import icd10, notes
from confide_records.domain import policy as p
from confide_records.domain.policy import Kind
from confide_records.schemas import (
    AddendumSchema,
    BreakGlassSchema,
    CareTeamSchema,
    ClientChangesSchema,
    ClientIdSchema,
    ClientSchema,
    ConsentSchema,
    DiagnosisSchema,
    GuardianSchema,
    IdSchema,
    NoteChangesSchema,
    NoteSchema,
    PsychotherapyNoteSchema,
    ReviewSchema,
    RevocationSchema,
    TreatmentPlanSchema,
    validate_sections,
)
from confide_records.sealing import Sealers, Sealing

log = logging.getLogger(__name__)




class Refused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass
class Access:
    """What a piece of work inside :meth:`RecordsService._access` gets."""

    uow: UnitOfWork
    caller: Caller  # as the access event records them (break-the-glass applied)
    relations: dict[str, p.Relation]
    resource_id: str | None = None
    recipient: str | None = None
    events_for: list[str] | None = None  # clients to record the access for (default: all)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def conn(self):
        return self.uow.session.connection()


class RecordsService:
    name = "records"

    uow = UnitOfWorkProvider()
    relay = OutboxRelayRunner()
    sealing: Sealers = Sealing()

    # --- the one way in ----------------------------------------------------------
    def _access(
        self,
        caller: dict | Caller,
        client_ids: list,
        *,
        action: Action,
        resource_type: str,
        work: Callable[[Access], Any],
        kind: Kind | None = None,
        write: bool = False,
        decide: Callable[[Caller, p.Relation], p.Decision] | None = None,
        resource_id: str | None = None,
    ) -> Any:
        """Decide, do ``work`` and record the access, in one transaction.

        ``decide`` (default: the policy for ``kind``, reading or writing) runs
        for each client; the first refusal is recorded and raised. ``work`` may
        itself refuse (:class:`Refused`) after looking at the resource.
        """
        who = caller if isinstance(caller, Caller) else load(CallerSchema(), caller)
        keys = [str(c) for c in client_ids]
        if decide is None:
            decide = (lambda c, r: p.may_write(c, kind, r)) if write else (lambda c, r: p.may_read(c, kind, r))
        refused: tuple[str, str | None, str | None] | None = None
        try:
            with self.uow() as uow:
                conn = uow.session.connection()
                relations: dict[str, p.Relation] = {}
                for key in keys:
                    relation = store.relation(conn, who, key)
                    if relation is None:
                        raise Refused(f"no client {key}")
                    relations[key] = relation
                effective = who
                decisions: dict[str, p.Decision] = {}
                for key, relation in relations.items():
                    decision = decisions[key] = decide(who, relation)
                    if not decision.allowed:
                        raise Refused(decision.reason)
                    effective = decision.effective(effective, relation)
                access = Access(uow, effective, relations, resource_id=resource_id)
                result = work(access)
                for key in access.events_for if access.events_for is not None else keys:
                    record_access(
                        uow, access.caller, action=action, resource_type=resource_type,
                        resource_id=access.resource_id, client_id=key,
                        site_id=relations[key].home_site if key in relations else None,
                        recipient=access.recipient, reason=decisions[key].recorded if key in decisions else None,
                    )
                return result
        except Refused as exc:
            refused = (exc.reason, keys[0] if keys else None, resource_id)
        reason, client_key, rid = refused
        unknown = reason.startswith("no client ")
        try:
            deny(self.uow, who, action=action, resource_type=resource_type, resource_id=rid,
                 client_id=None if unknown else client_key, reason=reason)
        except AccessDenied:
            if unknown:
                raise NotFound(reason) from None
            raise

    def _open_note(self, note_id) -> tuple[Any, list[str]]:
        """A note's header and participants, to know whose record it is in."""
        with self.uow() as uow:
            row, participants = store.note_header(uow.session.connection(), note_id)
        if row is None:
            raise NotFound(f"no note {note_id}")
        return row, participants

    # --- clients -----------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def register_client(self, caller: dict, client: dict) -> dict[str, Any]:
        """Register a client at their home site (front desk, admin, clinicians of that site)."""
        data = load(ClientSchema(), client)
        who = load(CallerSchema(), caller)
        decision = p.may_register(who, data["home_site_id"])
        if not decision.allowed:
            deny(self.uow, who, action=Action.CREATE, resource_type="Client", reason=decision.reason)
        guardians = data.pop("guardians")
        client_id = store.new_id()
        minor = (date.today() - data["date_of_birth"]).days < 18 * 365.25
        with self.uow() as uow:
            conn = uow.session.connection()
            try:
                with conn.begin_nested():
                    conn.execute(insert(m.clients).values(id=client_id, registered_by=who.user_id, **data))
            except IntegrityError:
                raise invalid("user_id", "already belongs to another client") from None
            for guardian in guardians:
                conn.execute(insert(m.guardians).values(id=store.new_id(), client_id=client_id,
                                                        recorded_by=who.user_id, **guardian))
            record_access(uow, who, action=Action.CREATE, resource_type="Client", resource_id=str(client_id),
                          client_id=str(client_id), site_id=data["home_site_id"])
            uow.emit(events.CLIENT_REGISTERED, {"client_id": str(client_id), "home_site_id": data["home_site_id"],
                                                "minor": minor}, actor=who.actor, site_id=data["home_site_id"])
            return store.client(conn, client_id)

    @rpc(expected_exceptions=EXPECTED)
    def get_client(self, caller: dict, client_id: str) -> dict[str, Any]:
        """Demographics, contacts, insurance and guardians."""
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        return self._access(caller, [cid], kind=Kind.DEMOGRAPHICS, action=Action.READ, resource_type="Client",
                            resource_id=str(cid), work=lambda a: store.client(a.conn, cid))

    @rpc(expected_exceptions=EXPECTED)
    def update_client(self, caller: dict, client_id: str, changes: dict) -> dict[str, Any]:
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        data = load(ClientChangesSchema(), changes, partial=True)
        if not data:
            raise invalid("changes", "nothing to change")

        def work(a: Access):
            a.conn.execute(update(m.clients).where(m.clients.c.id == cid).values(updated_at=store.now(), **data))
            return store.client(a.conn, cid)

        return self._access(caller, [cid], kind=Kind.DEMOGRAPHICS, write=True, action=Action.UPDATE,
                            resource_type="Client", resource_id=str(cid), work=work)

    @rpc(expected_exceptions=EXPECTED)
    def add_guardian(self, caller: dict, client_id: str, guardian: dict) -> dict[str, Any]:
        """Record a guardian and what they may see of the client's record."""
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        data = load(GuardianSchema(), guardian)

        def work(a: Access):
            gid = store.new_id()
            a.conn.execute(insert(m.guardians).values(id=gid, client_id=cid, recorded_by=a.caller.user_id, **data))
            a.resource_id = str(gid)
            return {"id": str(gid), **{k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}}

        return self._access(caller, [cid], kind=Kind.DEMOGRAPHICS, write=True, action=Action.CREATE,
                            resource_type="Guardian", work=work)

    # --- care team ---------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def assign_care_team(self, caller: dict, client_id: str, member: dict) -> list[dict[str, Any]]:
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        data = load(CareTeamSchema(), member)

        def work(a: Access):
            try:
                with a.conn.begin_nested():
                    a.conn.execute(insert(m.care_team).values(id=store.new_id(), client_id=cid,
                                                              assigned_by=a.caller.user_id, **data))
            except IntegrityError:
                field_name = "role" if data["role"] == "primary" else "clinician_id"
                raise invalid(field_name, "already on the care team" if field_name == "clinician_id"
                              else "the client already has a primary clinician") from None
            a.resource_id = data["clinician_id"]
            return store.care_team(a.conn, cid)

        return self._access(caller, [cid], kind=Kind.CARE_TEAM, write=True, action=Action.UPDATE,
                            resource_type="CareTeam", work=work)

    @rpc(expected_exceptions=EXPECTED)
    def end_care_team(self, caller: dict, client_id: str, clinician_id: str) -> list[dict[str, Any]]:
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]

        def work(a: Access):
            ct = m.care_team
            ended = a.conn.execute(update(ct).where(ct.c.client_id == cid, ct.c.clinician_id == clinician_id,
                                                    ct.c.ended_at.is_(None)).values(ended_at=store.now())).rowcount
            if not ended:
                raise invalid("clinician_id", "is not on the care team")
            a.resource_id = clinician_id
            return store.care_team(a.conn, cid)

        return self._access(caller, [cid], kind=Kind.CARE_TEAM, write=True, action=Action.UPDATE,
                            resource_type="CareTeam", work=work)

    @rpc(expected_exceptions=EXPECTED)
    def get_care_team(self, caller: dict, client_id: str) -> list[dict[str, Any]]:
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        return self._access(caller, [cid], kind=Kind.CARE_TEAM, action=Action.READ, resource_type="CareTeam",
                            work=lambda a: store.care_team(a.conn, cid))

    # --- consents ----------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def record_consent(self, caller: dict, client_id: str, consent: dict) -> dict[str, Any]:
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        data = load(ConsentSchema(), consent)
        data["scope"] = [str(k) for k in data["scope"]]

        def work(a: Access):
            consent_id = store.new_id()
            a.conn.execute(insert(m.consents).values(id=consent_id, client_id=cid, recorded_by=a.caller.user_id,
                                                     **data))
            a.resource_id = str(consent_id)
            row = a.conn.execute(select(m.consents).where(m.consents.c.id == consent_id)).first()
            return store.consent_view(plain(row))

        return self._access(caller, [cid], kind=Kind.CONSENTS, write=True, action=Action.CREATE,
                            resource_type="Consent", work=work)

    @rpc(expected_exceptions=EXPECTED)
    def revoke_consent(self, caller: dict, consent_id: str, reason: str) -> dict[str, Any]:
        kid = load(IdSchema(), {"id": consent_id})["id"]
        why = load(RevocationSchema(), {"reason": reason})["reason"]
        with self.uow() as uow:
            row = uow.session.connection().execute(select(m.consents).where(m.consents.c.id == kid)).first()
        if row is None:
            raise NotFound(f"no consent {consent_id}")

        def work(a: Access):
            done = a.conn.execute(
                update(m.consents).where(m.consents.c.id == kid, m.consents.c.revoked_at.is_(None))
                .values(revoked_at=store.now(), revoked_by=a.caller.user_id, revocation_reason=why)
            ).rowcount
            if not done:
                raise invalid("consent_id", "is already revoked")
            a.uow.emit(events.CONSENT_REVOKED, {"consent_id": str(kid), "client_id": str(row.client_id),
                                                "kind": row.kind}, actor=a.caller.actor)
            return store.consent_view(plain(
                a.conn.execute(select(m.consents).where(m.consents.c.id == kid)).first()))

        return self._access(caller, [row.client_id], kind=Kind.CONSENTS, write=True, action=Action.UPDATE,
                            resource_type="Consent", resource_id=str(kid), work=work)

    @rpc(expected_exceptions=EXPECTED)
    def list_consents(self, caller: dict, client_id: str) -> list[dict[str, Any]]:
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        return self._access(caller, [cid], kind=Kind.CONSENTS, action=Action.READ, resource_type="Consent",
                            work=lambda a: store.consents(a.conn, cid))

    # --- diagnoses and treatment plans --------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def add_diagnosis(self, caller: dict, client_id: str, diagnosis: dict) -> dict[str, Any]:
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        data = load(DiagnosisSchema(), diagnosis)
        code = icd10.lookup(data.pop("code"))

        def work(a: Access):
            did = store.new_id()
            a.conn.execute(insert(m.diagnoses).values(id=did, client_id=cid, code=code.code,
                                                      description=code.description, diagnosed_by=a.caller.user_id,
                                                      **data))
            a.resource_id = str(did)
            return {"id": str(did), "code": code.code, "description": code.description, "status": data["status"],
                    "onset_on": data["onset_on"].isoformat() if data["onset_on"] else None}

        return self._access(caller, [cid], kind=Kind.DIAGNOSES, write=True, action=Action.CREATE,
                            resource_type="Condition", work=work)

    @rpc(expected_exceptions=EXPECTED)
    def list_diagnoses(self, caller: dict, client_id: str) -> list[dict[str, Any]]:
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        return self._access(caller, [cid], kind=Kind.DIAGNOSES, action=Action.READ, resource_type="Condition",
                            work=lambda a: store.diagnoses(a.conn, cid))

    @rpc(expected_exceptions=EXPECTED)
    def create_treatment_plan(self, caller: dict, client_id: str, plan: dict) -> dict[str, Any]:
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        data = load(TreatmentPlanSchema(), plan)
        goals = TreatmentPlanSchema().dump(data)["goals"]
        def work(a: Access):
            pid = store.new_id()
            ciphertext = self.sealing.notes.seal(orjson.dumps(goals).decode())
            pl = m.treatment_plans
            a.conn.execute(update(pl).where(pl.c.client_id == cid, pl.c.status == "active").values(status="replaced"))
            a.conn.execute(insert(pl).values(id=pid, client_id=cid, author_id=a.caller.user_id, status="active",
                                             starts_on=data["starts_on"], review_on=data["review_on"],
                                             goals_ciphertext=ciphertext))
            a.resource_id = str(pid)
            return {"id": str(pid), "status": "active", "starts_on": data["starts_on"].isoformat(),
                    "review_on": data["review_on"].isoformat(), "goals": goals}

        return self._access(caller, [cid], kind=Kind.TREATMENT_PLANS, write=True, action=Action.CREATE,
                            resource_type="CarePlan", work=work)

    @rpc(expected_exceptions=EXPECTED)
    def list_treatment_plans(self, caller: dict, client_id: str) -> list[dict[str, Any]]:
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        return self._access(caller, [cid], kind=Kind.TREATMENT_PLANS, action=Action.READ, resource_type="CarePlan",
                            work=lambda a: self._plans(a.conn, cid))

    def _plans(self, conn, cid) -> list[dict[str, Any]]:
        pl = m.treatment_plans
        rows = conn.execute(select(pl).where(pl.c.client_id == cid).order_by(pl.c.created_at)).all()
        goals = self.sealing.notes.open_many([r.goals_ciphertext for r in rows])
        plans = []
        for row, text in zip(rows, goals, strict=True):
            plan = plain(row)
            del plan["goals_ciphertext"]
            plan["goals"] = orjson.loads(text)
            plans.append(plan)
        return plans

    # --- notes -------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def create_note(self, caller: dict, note: dict) -> dict[str, Any]:
        """A draft intake or progress note for one session and its clients; each
        section concerns one client, or (``client_id`` null) the whole session.
        The author must be on the care team of every client in it."""
        data = load(NoteSchema(), note)
        clients = data["client_ids"]

        def work(a: Access):
            note_id = store.new_id()
            a.conn.execute(insert(m.notes).values(
                id=note_id, kind=data["kind"], session_kind=data["session_kind"],
                appointment_id=data["appointment_id"], service_date=data["service_date"],
                author_id=a.caller.user_id, site_id=data["site_id"], status="draft"))
            a.conn.execute(insert(m.note_participants), [{"note_id": note_id, "client_id": c} for c in clients])
            self._write_sections(a, note_id, data["sections"])
            a.resource_id = str(note_id)
            return {"id": str(note_id), "status": "draft", "client_ids": [str(c) for c in clients]}

        return self._access(caller, clients, kind=Kind.NOTES, write=True, action=Action.CREATE,
                            resource_type="Note", work=work)

    def _write_sections(self, a: Access, note_id, sections) -> None:
        ciphertexts = self.sealing.notes.seal_many([s["body"] for s in sections])
        a.conn.execute(insert(m.note_sections), [
            {"id": store.new_id(), "note_id": note_id, "client_id": s["client_id"], "body_ciphertext": c}
            for s, c in zip(sections, ciphertexts, strict=True)
        ])

    def _author_only(self, header, what: str):
        def decide(who: Caller, relation: p.Relation) -> p.Decision:
            if who.user_id != header.author_id:
                return p.refuse(f"only the note's author may {what} it")
            return p.may_write(who, Kind.NOTES, relation)
        return decide

    @rpc(expected_exceptions=EXPECTED)
    def update_note(self, caller: dict, note_id: str, changes: dict) -> dict[str, Any]:
        """Replace a draft's sections (author only). A signed note is locked."""
        nid = load(IdSchema(), {"id": note_id})["id"]
        data = load(NoteChangesSchema(), changes)
        header, participants = self._open_note(nid)
        try:
            validate_sections(data["sections"], [uuid.UUID(c) for c in participants])
        except ValidationError as exc:
            raise invalid("sections", " ".join(exc.messages)) from None

        def work(a: Access):
            status = a.conn.execute(select(m.notes.c.status).where(m.notes.c.id == nid).with_for_update()).scalar()
            if status != "draft":
                raise invalid("note_id", "is signed and locked; add an addendum instead")
            a.conn.execute(delete(m.note_sections).where(m.note_sections.c.note_id == nid))
            self._write_sections(a, nid, data["sections"])
            a.conn.execute(update(m.notes).where(m.notes.c.id == nid).values(updated_at=store.now()))
            return {"id": str(nid), "status": "draft"}

        return self._access(caller, participants, decide=self._author_only(header, "change"), action=Action.UPDATE,
                            resource_type="Note", resource_id=str(nid), work=work)

    @rpc(expected_exceptions=EXPECTED)
    def sign_note(self, caller: dict, note_id: str) -> dict[str, Any]:
        """Sign and lock a draft (author only). A pre-licensed author's note then
        waits for their supervisor's co-signature."""
        nid = load(IdSchema(), {"id": note_id})["id"]
        header, participants = self._open_note(nid)

        def work(a: Access):
            row = a.conn.execute(select(m.notes).where(m.notes.c.id == nid).with_for_update()).first()
            if row.status != "draft":
                raise invalid("note_id", "is already signed")
            sections = store.all_sections(a.conn, nid)
            bodies = self.sealing.notes.open_many([s.body_ciphertext for s in sections])
            hashes = []
            for section, body in zip(sections, bodies, strict=True):
                digest = notes.section_hash(str(nid), section.client_id and str(section.client_id), body)
                a.conn.execute(update(m.note_sections).where(m.note_sections.c.id == section.id)
                               .values(body_sha256=digest))
                hashes.append(digest)
            content = notes.content_hash(str(nid), row.kind, row.author_id, row.service_date.isoformat(),
                                         row.appointment_id, participants, hashes)
            cosign = store.is_supervisee(a.conn, row.author_id, row.service_date)
            signed_at = store.now()
            a.conn.execute(update(m.notes).where(m.notes.c.id == nid).values(
                status="signed", signed_at=signed_at, content_sha256=content, cosign_required=cosign,
                updated_at=signed_at))
            a.uow.emit(events.NOTE_SIGNED, {
                "note_id": str(nid), "kind": row.kind, "client_ids": participants,
                "appointment_id": row.appointment_id, "author_id": row.author_id,
                "signed_at": signed_at.isoformat(), "content_sha256": content, "cosign_required": cosign,
            }, actor=a.caller.actor, site_id=row.site_id)
            return {"id": str(nid), "status": "signed", "signed_at": signed_at.isoformat(),
                    "content_sha256": content, "cosign_required": cosign}

        return self._access(caller, participants, decide=self._author_only(header, "sign"), action=Action.SIGN,
                            resource_type="Note", resource_id=str(nid), work=work)

    @rpc(expected_exceptions=EXPECTED)
    def cosign_note(self, caller: dict, note_id: str) -> dict[str, Any]:
        """Co-sign a supervisee's signed note (their supervisor on the service date)."""
        nid = load(IdSchema(), {"id": note_id})["id"]
        _header, participants = self._open_note(nid)

        def decide(who: Caller, relation: p.Relation) -> p.Decision:
            if who.role != "supervisor":
                return p.refuse("only a supervisor co-signs")
            return p.allow("supervisor of the note's author", "supervision")

        def work(a: Access):
            row = a.conn.execute(select(m.notes).where(m.notes.c.id == nid).with_for_update()).first()
            if not store.supervises(a.conn, a.caller.user_id, row.author_id, row.service_date):
                raise Refused("not the author's supervisor on the service date")
            if row.status != "signed" or not row.cosign_required:
                raise invalid("note_id", "needs no co-signature" if row.status == "signed" else "is not signed yet")
            if row.cosigned_at is not None:
                raise invalid("note_id", f"was co-signed by {row.cosigned_by}")
            at = store.now()
            a.conn.execute(update(m.notes).where(m.notes.c.id == nid).values(cosigned_by=a.caller.user_id,
                                                                             cosigned_at=at))
            a.uow.emit(events.NOTE_COSIGNED, {"note_id": str(nid), "author_id": row.author_id,
                                              "cosigned_by": a.caller.user_id, "cosigned_at": at.isoformat()},
                       actor=a.caller.actor, site_id=row.site_id)
            return {"id": str(nid), "cosigned_by": a.caller.user_id, "cosigned_at": at.isoformat()}

        return self._access(caller, participants, decide=decide, action=Action.SIGN, resource_type="Note",
                            resource_id=str(nid), work=work)

    @rpc(expected_exceptions=EXPECTED)
    def add_addendum(self, caller: dict, note_id: str, addendum: dict) -> dict[str, Any]:
        """A signed addendum to a signed note, concerning one client or the whole session."""
        nid = load(IdSchema(), {"id": note_id})["id"]
        data = load(AddendumSchema(), addendum)
        _header, participants = self._open_note(nid)
        concerned = [str(data["client_id"])] if data["client_id"] else participants
        if data["client_id"] and str(data["client_id"]) not in participants:
            raise invalid("client_id", "is not in this note's session")

        def work(a: Access):
            status = a.conn.execute(select(m.notes.c.status).where(m.notes.c.id == nid)).scalar()
            if status != "signed":
                raise invalid("note_id", "is a draft; change it instead")
            aid = store.new_id()
            digest = notes.section_hash(str(nid), data["client_id"] and str(data["client_id"]), data["body"])
            at = store.now()
            a.conn.execute(insert(m.note_addenda).values(
                id=aid, note_id=nid, client_id=data["client_id"], author_id=a.caller.user_id,
                body_ciphertext=self.sealing.notes.seal(data["body"]), body_sha256=digest, signed_at=at))
            a.resource_id = str(nid)
            return {"id": str(aid), "note_id": str(nid), "signed_at": at.isoformat(), "body_sha256": digest}

        return self._access(caller, concerned, kind=Kind.NOTES, write=True, action=Action.CREATE,
                            resource_type="Note", work=work)

    @rpc(expected_exceptions=EXPECTED)
    def get_note(self, caller: dict, note_id: str, client_id: str) -> dict[str, Any]:
        """A note as ``client_id``'s record shows it: the whole session's sections
        and this client's own, with the addenda that concern them."""
        nid = load(IdSchema(), {"id": note_id})["id"]
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        header, participants = self._open_note(nid)
        if str(cid) not in participants:
            raise NotFound(f"note {note_id} is not in client {client_id}'s record")

        def decide(who: Caller, relation: p.Relation) -> p.Decision:
            if header.status == "draft" and who.user_id != header.author_id:
                return p.refuse("a draft is for its author until it is signed")
            return p.may_read(who, Kind.NOTES, relation)

        return self._access(caller, [cid], decide=decide, action=Action.READ, resource_type="Note",
                            resource_id=str(nid), work=lambda a: self._note_view(a.conn, header, participants, cid))

    def _note_view(self, conn, header, participants, cid) -> dict[str, Any]:
        sections = store.visible_sections(conn, header.id, cid)
        addenda = store.visible_addenda(conn, header.id, cid)
        texts = self.sealing.notes.open_many([s.body_ciphertext for s in sections]
                                             + [x.body_ciphertext for x in addenda])
        if header.status == "signed":
            self._check_integrity(conn, header, participants, sections, addenda, texts)
        view = plain(header)
        view["client_ids"] = participants
        view["sections"] = [{"concerns": "session" if s.client_id is None else "client", "body": t}
                            for s, t in zip(sections, texts, strict=False)]
        view["addenda"] = [{"id": str(x.id), "author_id": x.author_id, "signed_at": x.signed_at.isoformat(),
                            "concerns": "session" if x.client_id is None else "client", "body": t}
                           for x, t in zip(addenda, texts[len(sections):], strict=True)]
        return view

    def _check_integrity(self, conn, header, participants, sections, addenda, texts) -> None:
        stored = [s.body_sha256 for s in store.all_sections(conn, header.id)]
        expected = notes.content_hash(str(header.id), header.kind, header.author_id, header.service_date.isoformat(),
                                      header.appointment_id, participants, stored)
        parts = list(sections) + list(addenda)
        recomputed = [notes.section_hash(str(header.id), s.client_id and str(s.client_id), t)
                      for s, t in zip(parts, texts, strict=True)]
        if expected != header.content_sha256 or recomputed != [s.body_sha256 for s in parts]:
            log.error("signed note %s does not match its signature", header.id)
            raise RecordIntegrityError(f"note {header.id} does not match what was signed; report this to security")

    @rpc(expected_exceptions=EXPECTED)
    def list_notes(self, caller: dict, client_id: str) -> list[dict[str, Any]]:
        """The client's notes (headers, no text), newest first."""
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        return self._access(caller, [cid], kind=Kind.NOTES, action=Action.READ, resource_type="NoteIndex",
                            work=lambda a: store.note_index(a.conn, cid, drafts_of=a.caller.user_id))

    # --- psychotherapy notes ------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def write_psychotherapy_note(self, caller: dict, note: dict) -> dict[str, Any]:
        """Process notes kept apart from the record, under their own key, for their author alone."""
        data = load(PsychotherapyNoteSchema(), note)
        cid = data["client_id"]

        def work(a: Access):
            nid = store.new_id()
            sealed = self.sealing.psychotherapy.seal(data["body"])
            signed_at = store.now() if data["sign"] else None
            digest = (notes.psychotherapy_hash(str(nid), str(cid), a.caller.user_id, data["body"])
                      if data["sign"] else None)
            a.conn.execute(insert(m.psychotherapy_notes).values(
                id=nid, client_id=cid, author_id=a.caller.user_id, appointment_id=data["appointment_id"],
                service_date=data["service_date"], status="signed" if data["sign"] else "draft",
                body_ciphertext=sealed, content_sha256=digest, signed_at=signed_at))
            a.resource_id = str(nid)
            return {"id": str(nid), "status": "signed" if data["sign"] else "draft"}

        return self._access(caller, [cid], kind=Kind.PSYCHOTHERAPY_NOTES, write=True, action=Action.CREATE,
                            resource_type="PsychotherapyNote", work=work)

    @rpc(expected_exceptions=EXPECTED)
    def get_psychotherapy_notes(self, caller: dict, client_id: str) -> list[dict[str, Any]]:
        """The caller's own psychotherapy notes about ``client_id`` (nobody else's, ever)."""
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        who = load(CallerSchema(), caller)

        def work(a: Access):
            return self._psychotherapy_notes(a.conn, cid, who.user_id)

        return self._access(who, [cid], decide=lambda c, r: p.may_read(c, Kind.PSYCHOTHERAPY_NOTES, r, c.user_id)
                            if c.role in p.CLINICIANS and r.on_care_team else
                            p.refuse("psychotherapy notes are for their author only"),
                            action=Action.READ, resource_type="PsychotherapyNote", work=work)

    def _psychotherapy_notes(self, conn, cid, author_id: str) -> list[dict[str, Any]]:
        pn = m.psychotherapy_notes
        rows = conn.execute(select(pn).where(pn.c.client_id == cid, pn.c.author_id == author_id)
                            .order_by(pn.c.service_date, pn.c.created_at)).all()
        texts = self.sealing.psychotherapy.open_many([r.body_ciphertext for r in rows])
        out = []
        for row, text in zip(rows, texts, strict=True):
            if row.status == "signed" and notes.psychotherapy_hash(str(row.id), str(cid), row.author_id,
                                                                   text) != row.content_sha256:
                raise RecordIntegrityError(f"psychotherapy note {row.id} does not match what was signed")
            view = plain(row)
            del view["body_ciphertext"]
            view["body"] = text
            out.append(view)
        return out

    @rpc(expected_exceptions=EXPECTED)
    def sign_psychotherapy_note(self, caller: dict, note_id: str) -> dict[str, Any]:
        nid = load(IdSchema(), {"id": note_id})["id"]
        with self.uow() as uow:
            row = uow.session.connection().execute(select(m.psychotherapy_notes).where(
                m.psychotherapy_notes.c.id == nid)).first()
        if row is None:
            raise NotFound(f"no psychotherapy note {note_id}")

        def work(a: Access):
            current = a.conn.execute(select(m.psychotherapy_notes).where(m.psychotherapy_notes.c.id == nid)
                                     .with_for_update()).first()
            if current.status != "draft":
                raise invalid("note_id", "is already signed")
            text = self.sealing.psychotherapy.open(current.body_ciphertext)
            at = store.now()
            a.conn.execute(update(m.psychotherapy_notes).where(m.psychotherapy_notes.c.id == nid).values(
                status="signed", signed_at=at, updated_at=at,
                content_sha256=notes.psychotherapy_hash(str(nid), str(current.client_id), current.author_id, text)))
            return {"id": str(nid), "status": "signed", "signed_at": at.isoformat()}

        return self._access(caller, [row.client_id], action=Action.SIGN, resource_type="PsychotherapyNote",
                            resource_id=str(nid), work=work,
                            decide=lambda c, r: p.may_read(c, Kind.PSYCHOTHERAPY_NOTES, r, row.author_id))

    # --- break the glass ----------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def break_glass(self, caller: dict, client_id: str, reason: str, minutes: int = 60) -> dict[str, Any]:
        """Emergency access for a clinician outside the care team: for ``minutes``,
        flagged on every access, queued for compliance review, and the client's
        primary clinician is told. Never opens psychotherapy notes."""
        data = load(BreakGlassSchema(), {"client_id": client_id, "reason": reason, "minutes": minutes})
        cid = data["client_id"]
        who = replace(load(CallerSchema(), caller), break_glass_reason=data["reason"], purpose=Purpose.EMERGENCY)

        def decide(c: Caller, r: p.Relation) -> p.Decision:
            if c.role not in p.CLINICIANS:
                return p.refuse(f"role {c.role} may not break the glass")
            return p.allow("break-the-glass", "break_glass")

        def work(a: Access):
            gid = store.new_id()
            opened = store.now()
            expires = opened + timedelta(minutes=data["minutes"])
            a.conn.execute(insert(m.break_glass_grants).values(
                id=gid, client_id=cid, user_id=who.user_id, role=who.role, reason=data["reason"],
                opened_at=opened, expires_at=expires))
            primary = store.primary_clinician(a.conn, cid)
            if primary and primary != who.user_id:
                a.conn.execute(insert(m.notifications).values(
                    id=store.new_id(), recipient_id=primary, kind="break_glass", client_id=cid, subject_id=str(gid),
                    detail={"user_id": who.user_id, "role": who.role, "reason": data["reason"],
                            "expires_at": expires.isoformat()}))
            a.uow.emit(events.BREAK_GLASS_OPENED, {
                "grant_id": str(gid), "client_id": str(cid), "user_id": who.user_id,
                "expires_at": expires.isoformat(), "primary_clinician_id": primary,
            }, actor=who.actor, site_id=a.relations[str(cid)].home_site)
            a.resource_id = str(gid)
            return {"id": str(gid), "client_id": str(cid), "expires_at": expires.isoformat(),
                    "primary_clinician_notified": bool(primary and primary != who.user_id)}

        return self._access(who, [cid], decide=decide, action=Action.READ, resource_type="BreakGlassGrant", work=work)

    @rpc(expected_exceptions=EXPECTED)
    def break_glass_reviews(self, caller: dict, status: str = "pending") -> list[dict[str, Any]]:
        """The compliance officers' queue of break-the-glass grants."""
        if status not in ("pending", "justified", "unjustified"):
            raise invalid("status", "must be one of pending, justified, unjustified")
        who = load(CallerSchema(), caller)
        if who.role not in ("compliance_officer", "admin"):
            deny(self.uow, who, action=Action.READ, resource_type="BreakGlassGrant", resource_id="review-queue",
                 reason=f"role {who.role} may not review break-the-glass access")
        bg = m.break_glass_grants
        with self.uow() as uow:
            rows = uow.session.connection().execute(
                select(bg).where(bg.c.review_status == status).order_by(bg.c.opened_at)).all()
            record_access(uow, who, action=Action.READ, resource_type="BreakGlassGrant", resource_id="review-queue",
                          reason=None)
        return [plain(r) for r in rows]

    @rpc(expected_exceptions=EXPECTED)
    def review_break_glass(self, caller: dict, grant_id: str, outcome: str, comment: str) -> dict[str, Any]:
        gid = load(IdSchema(), {"id": grant_id})["id"]
        data = load(ReviewSchema(), {"outcome": outcome, "comment": comment})
        who = load(CallerSchema(), caller)
        bg = m.break_glass_grants
        if who.role not in ("compliance_officer", "admin"):
            deny(self.uow, who, action=Action.UPDATE, resource_type="BreakGlassGrant", resource_id=str(gid),
                 reason=f"role {who.role} may not review break-the-glass access")
        with self.uow() as uow:
            conn = uow.session.connection()
            row = conn.execute(select(bg).where(bg.c.id == gid).with_for_update()).first()
            if row is None:
                raise NotFound(f"no break-the-glass grant {grant_id}")
            if row.review_status != "pending":
                raise invalid("grant_id", f"was already reviewed ({row.review_status})")
            conn.execute(update(bg).where(bg.c.id == gid).values(
                review_status=data["outcome"], review_comment=data["comment"], reviewed_by=who.user_id,
                reviewed_at=store.now()))
            record_access(uow, who, action=Action.UPDATE, resource_type="BreakGlassGrant", resource_id=str(gid),
                          client_id=str(row.client_id))
            return plain(conn.execute(select(bg).where(bg.c.id == gid)).first())

    @rpc(expected_exceptions=EXPECTED)
    def my_notifications(self, caller: dict) -> list[dict[str, Any]]:
        """The caller's notifications (e.g. someone broke the glass on their client)."""
        who = load(CallerSchema(), caller)
        n = m.notifications
        with self.uow() as uow:
            rows = uow.session.connection().execute(
                select(n).where(n.c.recipient_id == who.user_id).order_by(n.c.created_at.desc()).limit(200)).all()
        return [plain(r) for r in rows]

    # --- exports and disclosures ----------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def export_record(self, caller: dict, client_id: str) -> dict[str, Any]:
        """The parts of the client's record the caller may see, as one document:
        for the client's own copy or a clinician's. Psychotherapy notes never."""
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]

        def decide(c: Caller, r: p.Relation) -> p.Decision:
            if c.role not in (*p.CLINICIANS, "client"):
                return p.refuse(f"role {c.role} may not export client records")
            return p.may_read(c, Kind.DEMOGRAPHICS, r)

        def work(a: Access):
            relation = a.relations[str(cid)]
            kinds = [k for k in p.WHOLE_RECORD if p.may_read(a.caller, k, relation).allowed]
            a.resource_id = "export"
            return self._bundle(a.conn, cid, kinds)

        return self._access(caller, [cid], decide=decide, action=Action.EXPORT, resource_type="ClientRecord",
                            work=work)

    @rpc(expected_exceptions=EXPECTED)
    def disclose(self, caller: dict, client_id: str, consent_id: str) -> dict[str, Any]:
        """Release what an active consent covers to its named recipient; recorded as
        a disclosure (for the accounting of disclosures). Psychotherapy notes only
        under an authorization for them alone, and only by their author."""
        cid = load(ClientIdSchema(), {"client_id": client_id})["client_id"]
        kid = load(IdSchema(), {"id": consent_id})["id"]

        def decide(c: Caller, r: p.Relation) -> p.Decision:
            if c.role not in p.CLINICIANS:
                return p.refuse(f"role {c.role} may not disclose client records")
            return p.may_read(c, Kind.NOTES, r)

        def work(a: Access):
            row = a.conn.execute(select(m.consents).where(m.consents.c.id == kid, m.consents.c.client_id == cid)
                                 ).first()
            if row is None:
                raise invalid("consent_id", "is not a consent of this client")
            consent = store.consent_view(plain(row))
            if consent["kind"] not in ("release_of_information", "psychotherapy_notes_authorization"):
                raise invalid("consent_id", f"a {consent['kind']} consent releases nothing")
            if consent["state"] != "active":
                raise invalid("consent_id", f"is {consent['state']}")
            a.caller = replace(a.caller, purpose=Purpose.DISCLOSURE)
            a.recipient = consent["recipient"]
            a.resource_id = str(kid)
            if consent["kind"] == "psychotherapy_notes_authorization":
                bundle = {"client_id": str(cid),
                          "psychotherapy_notes": self._psychotherapy_notes(a.conn, cid, a.caller.user_id)}
            else:
                bundle = self._bundle(a.conn, cid, [Kind(k) for k in consent["scope"]])
            bundle["disclosed_to"] = consent["recipient"]
            bundle["under_consent"] = str(kid)
            return bundle

        return self._access(caller, [cid], decide=decide, action=Action.DISCLOSE, resource_type="Disclosure",
                            work=work)

    def _bundle(self, conn, cid, kinds) -> dict[str, Any]:
        """The listed kinds of one client's record; notes show only the sections
        that concern this client. Psychotherapy notes are never part of it."""
        bundle: dict[str, Any] = {"client_id": str(cid), "generated_at": store.now().isoformat()}
        if Kind.DEMOGRAPHICS in kinds:
            bundle["client"] = store.client(conn, cid)
        if Kind.CARE_TEAM in kinds:
            bundle["care_team"] = store.care_team(conn, cid)
        if Kind.CONSENTS in kinds:
            bundle["consents"] = store.consents(conn, cid)
        if Kind.DIAGNOSES in kinds:
            bundle["diagnoses"] = store.diagnoses(conn, cid)
        if Kind.TREATMENT_PLANS in kinds:
            bundle["treatment_plans"] = self._plans(conn, cid)
        if Kind.NOTES in kinds:
            views = []
            for entry in store.note_index(conn, cid):  # signed only: drafts are not part of the record yet
                header, participants = store.note_header(conn, entry["id"])
                views.append(self._note_view(conn, header, participants, cid))
            bundle["notes"] = views
        return bundle

    # --- projections of other services' events --------------------------------------
    @handles(*SUPERVISION_EVENTS)
    def on_supervision(self, event) -> None:
        """Who supervises whom, as credentialing records it."""
        with self.uow(handling=event) as uow:
            apply_supervision(uow.session.connection(), m.supervisions, event.payload)

    @rpc
    def health(self) -> dict[str, Any]:
        with self.uow() as uow:
            uow.session.connection().execute(select(1))
        return {"status": "ok"}
