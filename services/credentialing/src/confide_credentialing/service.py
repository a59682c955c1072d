"""The credentialing service's entrypoints.

Changes (clinicians, licences, verifications, supervisions) are for
credentialing officers and admins; each is an access-recorded action (who
changed which licence) committed with the change and its event. The licensure
answer is for every member of staff.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import confide_contracts  # noqa: F401 - registers the event schemas used here
from confide_access import (
    Action,
    Caller,
    CallerSchema,
    InvalidRequest,
    deny,
    load,
    parse_id,
    record_access,
)
from confide_contracts import credentialing as events
from confide_contracts.errors import EXPECTED, NotFound
from confide_licensure import catalogue, may_practice
from confide_licensure.answer import independent_licence_in
from confide_messaging import OutboxRelayRunner, UnitOfWorkProvider
from confide_persistence import plain
from nameko.rpc import rpc
from nameko.timer import timer
from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from confide_credentialing import models as m
from confide_credentialing import store
from confide_credentialing.expiry import notice_due
from confide_credentialing.schemas import (
    ClinicianSchema,
    LicenseSchema,
    MatrixSchema,
    QuestionSchema,
    ReasonSchema,
    RenewalSchema,
    SupervisionSchema,
    VerificationSchema,
)

log = logging.getLogger(__name__)

OFFICERS = ("credentialing_officer", "admin")
READERS = ("clinician", "supervisor", "front_desk", "biller", "credentialing_officer", "compliance_officer", "admin",
           "system")
EXPIRY_CHECK_SECONDS = 3600  # hourly; each notice goes once (see expiry_notices)


def invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest({field: [message]})


class CredentialingService:
    name = "credentialing"

    uow = UnitOfWorkProvider()
    relay = OutboxRelayRunner()

    # --- authorization ---------------------------------------------------------
    def _officer(self, caller: dict, action: Action, resource_type: str, resource_id: str | None = None) -> Caller:
        who = load(CallerSchema(), caller)
        if who.role not in OFFICERS:
            deny(self.uow, who, action=action, resource_type=resource_type, resource_id=resource_id,
                 reason=f"role {who.role} may not change credentialing records")
        return who

    def _reader(self, caller: dict, what: str) -> Caller:
        who = load(CallerSchema(), caller)
        if who.role not in READERS:
            deny(self.uow, who, action=Action.READ, resource_type="Licensure", resource_id=what,
                 reason=f"role {who.role} may not query licensure")
        return who

    # --- clinicians ------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def register_clinician(self, caller: dict, clinician: dict) -> dict[str, Any]:
        data = load(ClinicianSchema(), clinician)
        who = self._officer(caller, Action.CREATE, "Practitioner", data["id"])
        with self.uow() as uow:
            try:
                with uow.session.begin_nested():
                    uow.session.execute(insert(m.clinicians).values(created_by=who.user_id, **data))
            except IntegrityError as exc:
                taken = "national_id" if "national_id" in str(exc.orig) else "id"
                raise invalid(taken, "is already registered") from None
            record_access(uow, who, action=Action.CREATE, resource_type="Practitioner", resource_id=data["id"])
            uow.emit(events.CLINICIAN_REGISTERED, {
                "clinician_id": data["id"], "given_name": data["given_name"], "family_name": data["family_name"],
                "national_id": data["national_id"], "home_site_id": data["home_site_id"]}, actor=who.actor)
        return self.get_clinician(caller, data["id"])

    @rpc(expected_exceptions=EXPECTED)
    def get_clinician(self, caller: dict, clinician_id: str) -> dict[str, Any]:
        """A clinician with their licences and supervisions (either side)."""
        self._reader(caller, clinician_id)
        with self.uow() as uow:
            conn = uow.session.connection()
            row = conn.execute(select(m.clinicians).where(m.clinicians.c.id == clinician_id)).first()
            if row is None:
                raise NotFound(f"no clinician {clinician_id}")
            result = plain(row)
            lic = m.licenses
            result["licenses"] = [plain(r) for r in conn.execute(
                select(lic).where(lic.c.clinician_id == clinician_id).order_by(lic.c.jurisdiction, lic.c.type))]
            s = m.supervisions
            result["supervisions"] = [plain(r) for r in conn.execute(
                select(s).where((s.c.supervisor_id == clinician_id) | (s.c.supervisee_id == clinician_id))
                .order_by(s.c.starts_on))]
        return result

    # --- licences --------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def record_license(self, caller: dict, clinician_id: str, license: dict) -> dict[str, Any]:
        """Record a licence as pending: it becomes active only with a verification."""
        data = load(LicenseSchema(), license)
        who = self._officer(caller, Action.CREATE, "License")
        license_id = store.new_id()
        with self.uow() as uow:
            conn = uow.session.connection()
            if conn.execute(select(m.clinicians.c.id).where(m.clinicians.c.id == clinician_id)).first() is None:
                raise invalid("clinician_id", f"no clinician {clinician_id}")
            try:
                with conn.begin_nested():
                    conn.execute(insert(m.licenses).values(id=license_id, clinician_id=clinician_id,
                                                           status="pending", created_by=who.user_id, **data))
            except IntegrityError:
                raise invalid("number", f"a {data['type']} licence {data['number']} in {data['jurisdiction']} "
                                        "is already recorded") from None
            row = store.license_row(conn, license_id)
            self._changed(uow, who, row, events.LICENSE_RECORDED, Action.CREATE)
        return plain(row)

    def _changed(self, uow, who: Caller, row, event_type: str, action: Action = Action.UPDATE, **extra) -> None:
        record_access(uow, who, action=action, resource_type="License", resource_id=str(row.id))
        uow.emit(event_type, store.license_event(row, **extra), actor=who.actor)

    def _transition(self, caller: dict, license_id: str, event_type: str, change) -> dict[str, Any]:
        who = self._officer(caller, Action.UPDATE, "License", license_id)
        with self.uow() as uow:
            conn = uow.session.connection()
            row = store.license_row(conn, parse_id(license_id, "license_id"), lock=True)
            if row is None:
                raise NotFound(f"no licence {license_id}")
            values, extra = change(conn, who, row)
            conn.execute(update(m.licenses).where(m.licenses.c.id == row.id).values(updated_at=store.now(), **values))
            row = store.license_row(conn, row.id)
            self._changed(uow, who, row, event_type, **extra)
        return plain(row)

    @rpc(expected_exceptions=EXPECTED)
    def verify_license(self, caller: dict, license_id: str, verification: dict) -> dict[str, Any]:
        """Record a primary-source verification; a verified pending licence becomes active."""
        data = load(VerificationSchema(), verification)

        def change(conn, who, row):
            at = store.now()
            conn.execute(insert(m.verifications).values(id=store.new_id(), license_id=row.id, verified_by=who.user_id,
                                                        verified_at=at, **data))
            if data["result"] != "verified":
                return {"status_reason": f"verification: {data['result']}"}, {"reason": data["note"]}
            values = {"verified_at": at, "verified_by": who.user_id, "verification_source": data["source"],
                      "status_reason": None}
            if row.status == "pending":
                values["status"] = "expired" if row.expires_on <= date.today() else "active"
            return values, {}

        return self._transition(caller, license_id, events.LICENSE_VERIFIED, change)

    @rpc(expected_exceptions=EXPECTED)
    def renew_license(self, caller: dict, license_id: str, renewal: dict) -> dict[str, Any]:
        """A new expiry date, with the verification of the renewal."""
        data = load(RenewalSchema(), renewal)

        def change(conn, who, row):
            if row.status == "revoked":
                raise invalid("license_id", "is revoked; record a new licence instead")
            if data["expires_on"] <= row.expires_on:
                raise invalid("expires_on", f"must be after the current expiry {row.expires_on.isoformat()}")
            if data["verification"]["result"] != "verified":
                raise invalid("verification.result", "a renewal needs a verified primary source")
            at = store.now()
            conn.execute(insert(m.verifications).values(id=store.new_id(), license_id=row.id, verified_by=who.user_id,
                                                        verified_at=at, **data["verification"]))
            status = row.status if row.status == "suspended" else "active"
            return {"expires_on": data["expires_on"], "status": status, "verified_at": at, "verified_by": who.user_id,
                    "verification_source": data["verification"]["source"]}, {}

        return self._transition(caller, license_id, events.LICENSE_RENEWED, change)

    @rpc(expected_exceptions=EXPECTED)
    def suspend_license(self, caller: dict, license_id: str, reason: str) -> dict[str, Any]:
        why = load(ReasonSchema(), {"reason": reason})["reason"]

        def change(conn, who, row):
            if row.status not in ("active", "pending"):
                raise invalid("license_id", f"is {row.status}")
            return {"status": "suspended", "status_reason": why}, {"reason": why}

        return self._transition(caller, license_id, events.LICENSE_SUSPENDED, change)

    @rpc(expected_exceptions=EXPECTED)
    def reinstate_license(self, caller: dict, license_id: str, reason: str) -> dict[str, Any]:
        why = load(ReasonSchema(), {"reason": reason})["reason"]

        def change(conn, who, row):
            if row.status != "suspended":
                raise invalid("license_id", f"is {row.status}, not suspended")
            if row.verified_at is None:
                return {"status": "pending", "status_reason": why}, {"reason": why}
            status = "expired" if row.expires_on <= date.today() else "active"
            return {"status": status, "status_reason": why}, {"reason": why}

        return self._transition(caller, license_id, events.LICENSE_REINSTATED, change)

    @rpc(expected_exceptions=EXPECTED)
    def revoke_license(self, caller: dict, license_id: str, reason: str) -> dict[str, Any]:
        why = load(ReasonSchema(), {"reason": reason})["reason"]

        def change(conn, who, row):
            if row.status == "revoked":
                raise invalid("license_id", "is already revoked")
            return {"status": "revoked", "status_reason": why}, {"reason": why}

        return self._transition(caller, license_id, events.LICENSE_REVOKED, change)

    # --- supervision -------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def start_supervision(self, caller: dict, supervision: dict) -> dict[str, Any]:
        """The supervisor must hold an independent licence in force in the
        jurisdiction on the start date."""
        data = load(SupervisionSchema(), supervision)
        who = self._officer(caller, Action.CREATE, "Supervision")
        sid = store.new_id()
        with self.uow() as uow:
            conn = uow.session.connection()
            known = set(conn.execute(select(m.clinicians.c.id).where(
                m.clinicians.c.id.in_([data["supervisor_id"], data["supervisee_id"]]))).scalars())
            for field in ("supervisor_id", "supervisee_id"):
                if data[field] not in known:
                    raise invalid(field, f"no clinician {data[field]}")
            held = store.licenses_of(conn, [data["supervisor_id"]])[data["supervisor_id"]]
            if independent_licence_in(catalogue(), held, data["jurisdiction"], data["starts_on"]) is None:
                raise invalid("supervisor_id", f"holds no independent licence in force in {data['jurisdiction']} "
                                               f"on {data['starts_on'].isoformat()}")
            conn.execute(insert(m.supervisions).values(id=sid, created_by=who.user_id, **data))
            record_access(uow, who, action=Action.CREATE, resource_type="Supervision", resource_id=str(sid))
            uow.emit(events.SUPERVISION_STARTED, self._supervision_event(sid, data), actor=who.actor)
        return {"id": str(sid), **SupervisionSchema().dump(data)}

    @staticmethod
    def _supervision_event(sid, data) -> dict[str, Any]:
        return {"supervision_id": str(sid), "supervisor_id": data["supervisor_id"],
                "supervisee_id": data["supervisee_id"], "jurisdiction": data["jurisdiction"],
                "starts_on": data["starts_on"].isoformat(),
                "ends_on": data["ends_on"].isoformat() if data.get("ends_on") else None}

    @rpc(expected_exceptions=EXPECTED)
    def end_supervision(self, caller: dict, supervision_id: str, ends_on: str) -> dict[str, Any]:
        who = self._officer(caller, Action.UPDATE, "Supervision", supervision_id)
        try:
            end = date.fromisoformat(ends_on)
        except (TypeError, ValueError):
            raise invalid("ends_on", "is not a date (YYYY-MM-DD)") from None
        with self.uow() as uow:
            conn = uow.session.connection()
            s = m.supervisions
            row = conn.execute(select(s).where(s.c.id == parse_id(supervision_id, "supervision_id"))
                               .with_for_update()).first()
            if row is None:
                raise NotFound(f"no supervision {supervision_id}")
            if end < row.starts_on:
                raise invalid("ends_on", f"is before the start {row.starts_on.isoformat()}")
            conn.execute(update(s).where(s.c.id == row.id).values(ends_on=end))
            record_access(uow, who, action=Action.UPDATE, resource_type="Supervision", resource_id=str(row.id))
            data = {**row._mapping, "ends_on": end}
            uow.emit(events.SUPERVISION_ENDED, self._supervision_event(row.id, data), actor=who.actor)
        return {"id": str(row.id), "ends_on": end.isoformat()}

    # --- the licensure answer ------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def may_practice(self, caller: dict, clinician_id: str, question: dict) -> dict[str, Any]:
        """May ``clinician_id`` provide ``service_kind`` to a client in
        ``client_jurisdiction`` by ``modality`` on ``on`` (default today)? With
        every reason."""
        q = load(QuestionSchema(), question)
        self._reader(caller, clinician_id)
        with self.uow() as uow:
            conn = uow.session.connection()
            if conn.execute(select(m.clinicians.c.id).where(m.clinicians.c.id == clinician_id)).first() is None:
                raise NotFound(f"no clinician {clinician_id}")
            licenses = store.licenses_of(conn, [clinician_id])[clinician_id]
            supervisions = store.supervisions_of(conn, [clinician_id], q["on"])[clinician_id]
        answer = may_practice(licenses, supervisions, q["service_kind"], q["client_jurisdiction"], q["modality"],
                              q["on"])
        return {"clinician_id": clinician_id, **QuestionSchema().dump(q), **answer.as_dict()}

    @rpc(expected_exceptions=EXPECTED)
    def licensure_matrix(self, caller: dict, question: dict) -> dict[str, Any]:
        """The same question for clinicians x jurisdictions: a supervisor's matrix."""
        q = load(MatrixSchema(), question)
        self._reader(caller, "matrix")
        ids = list(dict.fromkeys(q["clinician_ids"]))
        with self.uow() as uow:
            conn = uow.session.connection()
            known = set(conn.execute(select(m.clinicians.c.id).where(m.clinicians.c.id.in_(ids))).scalars())
            missing = [c for c in ids if c not in known]
            if missing:
                raise invalid("clinician_ids", f"unknown clinicians: {', '.join(missing)}")
            licenses = store.licenses_of(conn, ids)
            supervisions = store.supervisions_of(conn, ids, q["on"])
        rows = []
        for clinician in ids:
            cells = {j: may_practice(licenses[clinician], supervisions[clinician], q["service_kind"], j,
                                     q["modality"], q["on"]).as_dict() for j in q["jurisdictions"]}
            rows.append({"clinician_id": clinician, "jurisdictions": cells})
        return {"service_kind": q["service_kind"], "modality": q["modality"], "on": q["on"].isoformat(), "rows": rows}

    @rpc(expected_exceptions=EXPECTED)
    def expiring(self, caller: dict, within_days: int = 90) -> list[dict[str, Any]]:
        """Licences in force that expire within ``within_days``, soonest first."""
        if not isinstance(within_days, int) or not 1 <= within_days <= 730:
            raise invalid("within_days", "must be a whole number of days from 1 to 730")
        self._reader(caller, "expiring")
        today = date.today()
        lic = m.licenses
        with self.uow() as uow:
            rows = uow.session.connection().execute(
                select(lic).where(lic.c.status.in_(("active", "pending", "suspended")),
                                  lic.c.expires_on > today, lic.c.expires_on <= today + timedelta(days=within_days))
                .order_by(lic.c.expires_on)).all()
        return [{**plain(r), "days_left": (r.expires_on - today).days} for r in rows]

    # --- expiry ----------------------------------------------------------------------
    @timer(interval=EXPIRY_CHECK_SECONDS, eager=True)
    def expiry_timer(self) -> None:
        sent = self.check_expiries_on(date.today())
        if sent:
            log.info("expiry check sent %d notices", sent)

    @rpc(expected_exceptions=EXPECTED)
    def check_expiries(self, caller: dict, on: str | None = None) -> int:
        """Run the expiry check now (operators; ``on`` defaults to today). Returns
        how many notices went out."""
        self._officer(caller, Action.UPDATE, "License", "expiry-check")
        try:
            day = date.fromisoformat(on) if on else date.today()
        except ValueError:
            raise invalid("on", "is not a date (YYYY-MM-DD)") from None
        return self.check_expiries_on(day)

    def check_expiries_on(self, today: date) -> int:
        """Publish each due notice once: the notice row and its event commit
        together, and the row's key refuses a second one."""
        lic = m.licenses
        horizon = today + timedelta(days=90)
        system = CallerSchema().load({"user_id": f"{self.name}.expiry", "role": "system",
                                      "purpose": "operations"})
        sent = 0
        with self.uow() as uow:
            conn = uow.session.connection()
            rows = conn.execute(select(lic).where(lic.c.status.in_(("active", "pending", "suspended")),
                                                  lic.c.expires_on <= horizon)).all()
            for row in rows:
                notice = notice_due(row.expires_on, today)
                if notice is None:
                    continue
                claimed = conn.execute(pg_insert(m.expiry_notices).values(
                    license_id=row.id, notice=notice, expires_on=row.expires_on).on_conflict_do_nothing()
                    .returning(m.expiry_notices.c.license_id)).first()
                if claimed is None:
                    continue
                if notice == "expired":
                    conn.execute(update(lic).where(lic.c.id == row.id).values(
                        status="expired", status_reason=f"expired on {row.expires_on.isoformat()}",
                        updated_at=store.now()))
                    row = store.license_row(conn, row.id)
                    record_access(uow, system, action=Action.UPDATE, resource_type="License", resource_id=str(row.id))
                    uow.emit(events.LICENSE_EXPIRED, store.license_event(row), actor=system.actor)
                else:
                    uow.emit(events.LICENSE_EXPIRING,
                             store.license_event(row, days_left=(row.expires_on - today).days), actor=system.actor)
                sent += 1
        return sent

    @rpc
    def health(self) -> dict[str, Any]:
        with self.uow() as uow:
            uow.session.connection().execute(select(1))
        return {"status": "ok"}
