"""The credentialing service's entrypoints: a table of contents.

Changes (clinicians, licences, verifications, supervisions) are for
credentialing officers and admins (``domain/policy.py``); each is an
access-recorded action committed with the change and its event. The licensure
answer is for every member of staff. The lifecycle of a licence is
``domain/licence.py``; the use cases are ``clinicians``, ``licences``,
``supervisions`` and ``licensure``; the SQL is ``store``.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import confide_contracts  # noqa: F401 - registers the event schemas used here
from confide_access import Action, Caller, enforce, load, open_rpc, parse_id, rpc
from confide_contracts import credentialing as events
from confide_contracts.errors import EXPECTED, invalid
from confide_contracts.rpc.credentialing import (
    ClinicianListSchema,
    ClinicianSchema,
    LicenseListSchema,
    LicenseSchema,
    MatrixSchema,
    QuestionSchema,
    ReasonSchema,
    RenewalSchema,
    SupervisionListSchema,
    SupervisionSchema,
    VerificationSchema,
)
from confide_messaging import OutboxRelayRunner, UnitOfWorkProvider
from nameko.timer import timer

from confide_credentialing import clinicians, licences, licensure, listing, store, supervisions
from confide_credentialing.domain import policy

log = logging.getLogger(__name__)

EXPIRY_CHECK_SECONDS = 3600  # hourly; each notice goes once (see licences.send_expiry_notices)


class CredentialingService:
    name = "credentialing"

    uow = UnitOfWorkProvider()
    relay = OutboxRelayRunner()

    def _officer(self, caller: Caller, action: Action, resource_type: str, resource_id: str | None = None) -> Caller:
        who = caller
        return enforce(self.uow, who, policy.may_change_credentials(who), action=action,
                       resource_type=resource_type, resource_id=resource_id)

    def _reader(self, caller: Caller, what: str) -> Caller:
        who = caller
        return enforce(self.uow, who, policy.may_query_licensure(who), action=Action.READ,
                       resource_type="Licensure", resource_id=what)

    # --- clinicians ------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def register_clinician(self, caller: Caller, clinician: dict) -> dict[str, Any]:
        data = load(ClinicianSchema(), clinician)
        who = self._officer(caller, Action.CREATE, "Practitioner", data["id"])
        with self.uow() as uow:
            clinicians.register(uow, who, data)
        return self.get_clinician(caller, data["id"])

    @rpc(expected_exceptions=EXPECTED)
    def get_clinician(self, caller: Caller, clinician_id: str) -> dict[str, Any]:
        """A clinician with their licences and supervisions (either side)."""
        self._reader(caller, clinician_id)
        with self.uow() as uow:
            return clinicians.get(uow, clinician_id)

    @rpc(expected_exceptions=EXPECTED)
    def list_clinicians(self, caller: Caller, query: dict) -> dict[str, Any]:
        q = load(ClinicianListSchema(), query)
        self._reader(caller, "clinicians")
        with self.uow() as uow:
            return listing.clinicians(uow, q)

    @rpc(expected_exceptions=EXPECTED)
    def list_licenses(self, caller: Caller, query: dict) -> dict[str, Any]:
        q = load(LicenseListSchema(), query)
        self._reader(caller, "licenses")
        with self.uow() as uow:
            return listing.licences(uow, q)

    @rpc(expected_exceptions=EXPECTED)
    def list_supervisions(self, caller: Caller, query: dict) -> dict[str, Any]:
        q = load(SupervisionListSchema(), query)
        self._reader(caller, "supervisions")
        with self.uow() as uow:
            return listing.supervisions(uow, q)

    # --- licences --------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def record_license(self, caller: Caller, clinician_id: str, license: dict) -> dict[str, Any]:
        """Record a licence as pending: it becomes active only with a verification."""
        data = load(LicenseSchema(), license)
        who = self._officer(caller, Action.CREATE, "License")
        with self.uow() as uow:
            return licences.record(uow, who, clinician_id, data)

    def _change(self, caller: Caller, license_id: str, event_type: str, how: licences.Change) -> dict[str, Any]:
        who = self._officer(caller, Action.UPDATE, "License", license_id)
        with self.uow() as uow:
            return licences.change(uow, who, parse_id(license_id, "license_id"), event_type, how)

    @rpc(expected_exceptions=EXPECTED)
    def verify_license(self, caller: Caller, license_id: str, verification: dict) -> dict[str, Any]:
        """Record a primary-source verification; a verified pending licence becomes active."""
        data = load(VerificationSchema(), verification)
        return self._change(caller, license_id, events.LICENSE_VERIFIED, licences.verification(data))

    @rpc(expected_exceptions=EXPECTED)
    def renew_license(self, caller: Caller, license_id: str, renewal: dict) -> dict[str, Any]:
        """A new expiry date, with the verification of the renewal."""
        data = load(RenewalSchema(), renewal)
        return self._change(caller, license_id, events.LICENSE_RENEWED, licences.renewal(data))

    @rpc(expected_exceptions=EXPECTED)
    def suspend_license(self, caller: Caller, license_id: str, reason: str) -> dict[str, Any]:
        why = load(ReasonSchema(), {"reason": reason})["reason"]
        return self._change(caller, license_id, events.LICENSE_SUSPENDED, licences.suspension(why))

    @rpc(expected_exceptions=EXPECTED)
    def reinstate_license(self, caller: Caller, license_id: str, reason: str) -> dict[str, Any]:
        why = load(ReasonSchema(), {"reason": reason})["reason"]
        return self._change(caller, license_id, events.LICENSE_REINSTATED, licences.reinstatement(why))

    @rpc(expected_exceptions=EXPECTED)
    def revoke_license(self, caller: Caller, license_id: str, reason: str) -> dict[str, Any]:
        why = load(ReasonSchema(), {"reason": reason})["reason"]
        return self._change(caller, license_id, events.LICENSE_REVOKED, licences.revocation(why))

    # --- supervision -------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def start_supervision(self, caller: Caller, supervision: dict) -> dict[str, Any]:
        """The supervisor must hold an independent licence in force in the
        jurisdiction on the start date."""
        data = load(SupervisionSchema(), supervision)
        who = self._officer(caller, Action.CREATE, "Supervision")
        with self.uow() as uow:
            sid = supervisions.start(uow, who, data)
        return {"id": str(sid), **SupervisionSchema().dump(data)}

    @rpc(expected_exceptions=EXPECTED)
    def end_supervision(self, caller: Caller, supervision_id: str, ends_on: str) -> dict[str, Any]:
        who = self._officer(caller, Action.UPDATE, "Supervision", supervision_id)
        end = _date(ends_on, "ends_on")
        sid = parse_id(supervision_id, "supervision_id")
        with self.uow() as uow:
            supervisions.end(uow, who, sid, end)
        return {"id": str(sid), "ends_on": end.isoformat()}

    # --- the licensure answer ------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def may_practice(self, caller: Caller, clinician_id: str, question: dict) -> dict[str, Any]:
        """May ``clinician_id`` provide ``service_kind`` to a client in
        ``client_jurisdiction`` by ``modality`` on ``on`` (default today)? With
        every reason."""
        q = load(QuestionSchema(), question)
        self._reader(caller, clinician_id)
        with self.uow() as uow:
            answer = licensure.answer(uow, clinician_id, q)
        return {"clinician_id": clinician_id, **QuestionSchema().dump(q), **answer}

    @rpc(expected_exceptions=EXPECTED)
    def licensure_matrix(self, caller: Caller, question: dict) -> dict[str, Any]:
        """The same question for clinicians x jurisdictions: a supervisor's matrix."""
        q = load(MatrixSchema(), question)
        self._reader(caller, "matrix")
        with self.uow() as uow:
            rows = licensure.matrix(uow, q)
        return {"service_kind": q["service_kind"], "modality": q["modality"], "on": q["on"].isoformat(), "rows": rows}

    @rpc(expected_exceptions=EXPECTED)
    def expiring(self, caller: Caller, within_days: int = 90) -> list[dict[str, Any]]:
        """Licences in force that expire within ``within_days``, soonest first."""
        if not isinstance(within_days, int) or not 1 <= within_days <= 730:
            raise invalid("within_days", "must be a whole number of days from 1 to 730")
        self._reader(caller, "expiring")
        with self.uow() as uow:
            return licences.expiring(uow, within_days, date.today())

    # --- expiry ----------------------------------------------------------------------
    @timer(interval=EXPIRY_CHECK_SECONDS, eager=True)
    def expiry_timer(self) -> None:
        sent = self.check_expiries_on(date.today())
        if sent:
            log.info("expiry check sent %d notices", sent)

    @rpc(expected_exceptions=EXPECTED)
    def check_expiries(self, caller: Caller, on: str | None = None) -> int:
        """Run the expiry check now (operators; ``on`` defaults to today). Returns
        how many notices went out."""
        self._officer(caller, Action.UPDATE, "License", "expiry-check")
        return self.check_expiries_on(_date(on, "on") if on else date.today())

    def check_expiries_on(self, today: date) -> int:
        with self.uow() as uow:
            return licences.send_expiry_notices(uow, self.name, today)

    @open_rpc
    def health(self) -> dict[str, Any]:
        with self.uow() as uow:
            store.ping(uow.session.connection())
        return {"status": "ok"}


def _date(value, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise invalid(field, "is not a date (YYYY-MM-DD)") from None
