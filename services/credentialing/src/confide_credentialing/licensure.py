"""The licensure answer from credentialing's own records: for one clinician, or
clinicians x jurisdictions (a supervisor's matrix). The rules are
``confide_licensure``'s; this gathers the facts."""

from __future__ import annotations

from typing import Any

from confide_contracts.errors import NotFound, missing
from confide_licensure import may_practice
from confide_messaging import UnitOfWork

from confide_credentialing import store


def answer(uow: UnitOfWork, clinician_id: str, q: dict[str, Any]) -> dict[str, Any]:
    conn = uow.session.connection()
    if not store.known_clinicians(conn, [clinician_id]):
        raise NotFound(f"no clinician {clinician_id}")
    licenses = store.licenses_of(conn, [clinician_id])[clinician_id]
    supervisions = store.supervisions_of(conn, [clinician_id], q["on"])[clinician_id]
    return may_practice(licenses, supervisions, q["service_kind"], q["client_jurisdiction"], q["modality"],
                        q["on"]).as_dict()


def matrix(uow: UnitOfWork, q: dict[str, Any]) -> list[dict[str, Any]]:
    ids = list(dict.fromkeys(q["clinician_ids"]))
    conn = uow.session.connection()
    known = store.known_clinicians(conn, ids)
    unknown = [c for c in ids if c not in known]
    if unknown:
        raise missing("clinician_ids", f"unknown clinicians: {', '.join(unknown)}")
    licenses = store.licenses_of(conn, ids)
    supervisions = store.supervisions_of(conn, ids, q["on"])
    return [{"clinician_id": clinician, "jurisdictions": {
        j: may_practice(licenses[clinician], supervisions[clinician], q["service_kind"], j, q["modality"],
                        q["on"]).as_dict() for j in q["jurisdictions"]}} for clinician in ids]
