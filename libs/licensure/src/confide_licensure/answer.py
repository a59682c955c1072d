"""The licensure answer: may this clinician provide this kind of service to a
client located in this jurisdiction, by this modality, on this date -- with
every reason, for and against."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from confide_licensure.catalogue import MODALITIES, Catalogue, catalogue
from confide_licensure.jurisdictions import check_jurisdiction


@dataclass(frozen=True)
class License:
    id: str
    type: str
    jurisdiction: str
    number: str
    status: str  # pending | active | expired | suspended | revoked
    issued_on: date
    expires_on: date  # the first day it is no longer valid

    @property
    def label(self) -> str:
        return f"{self.type} licence {self.number} ({self.jurisdiction})"


@dataclass(frozen=True)
class Supervision:
    supervisor_id: str
    jurisdiction: str
    starts_on: date
    ends_on: date | None
    supervisor_licenses: tuple[License, ...] = ()

    def active_on(self, on: date) -> bool:
        return self.starts_on <= on and (self.ends_on is None or on <= self.ends_on)


@dataclass
class Answer:
    allowed: bool
    basis: list[str] = field(default_factory=list)  # what allows it
    reasons: list[str] = field(default_factory=list)  # what is missing, expired, suspended, out of scope

    def as_dict(self) -> dict:
        return {"allowed": self.allowed, "basis": self.basis, "reasons": self.reasons}


def license_state(lic: License, on: date) -> str | None:
    """``None`` if ``lic`` is in force on ``on``, else why not."""
    if lic.status in ("suspended", "revoked", "pending"):
        return {"pending": "is pending primary-source verification"}.get(lic.status, f"is {lic.status}")
    if on < lic.issued_on:
        return f"is not valid before {lic.issued_on.isoformat()}"
    if on >= lic.expires_on or lic.status == "expired":
        return f"expired on {lic.expires_on.isoformat()}"
    return None


def independent_licence_in(catalog: Catalogue, licenses, jurisdiction: str, on: date) -> License | None:
    for lic in licenses:
        if (lic.jurisdiction == jurisdiction and catalog.credential_type(lic.type).independent
                and license_state(lic, on) is None):
            return lic
    return None


def may_practice(
    licenses: list[License] | tuple[License, ...],
    supervisions: list[Supervision] | tuple[Supervision, ...],
    service_kind: str,
    client_jurisdiction: str,
    modality: str,
    on: date,
    catalog: Catalogue | None = None,
) -> Answer:
    """Raises ``UnknownCode`` / ``InvalidJurisdiction`` / ``ValueError`` for a
    question that cannot be asked (unknown service kind, jurisdiction, modality)."""
    catalog = catalog or catalogue()
    catalog.service_kind(service_kind)
    check_jurisdiction(client_jurisdiction)
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {', '.join(MODALITIES)}")
    answer = Answer(False)
    if not licenses:
        answer.reasons.append("no licence on record")
    for lic in licenses:
        kind = catalog.credential_type(lic.type)
        if service_kind not in kind.service_kinds:
            answer.reasons.append(f"{lic.label}: {kind.title} scope of practice does not include {service_kind}")
            continue
        problem = license_state(lic, on)
        if problem:
            answer.reasons.append(f"{lic.label} {problem}")
            continue
        if lic.jurisdiction == client_jurisdiction:
            _home(catalog, answer, lic, kind, supervisions, on)
        else:
            _elsewhere(catalog, answer, lic, kind, client_jurisdiction, modality, on)
    answer.allowed = bool(answer.basis)
    return answer


def _home(catalog, answer, lic, kind, supervisions, on) -> None:
    if kind.independent:
        answer.basis.append(f"{lic.label} in force")
        return
    here = [s for s in supervisions if s.jurisdiction == lic.jurisdiction and s.active_on(on)]
    if not here:
        answer.reasons.append(f"{lic.label}: a pre-licensed {kind.title} needs an active supervision in "
                              f"{lic.jurisdiction} on {on.isoformat()}")
        return
    for supervision in here:
        backing = independent_licence_in(catalog, supervision.supervisor_licenses, lic.jurisdiction, on)
        if backing:
            answer.basis.append(f"{lic.label} in force, supervised by {supervision.supervisor_id} "
                                f"({backing.label})")
        else:
            answer.reasons.append(f"{lic.label}: supervisor {supervision.supervisor_id} holds no licence in force "
                                  f"in {lic.jurisdiction}")


def _elsewhere(catalog, answer, lic, kind, client_jurisdiction, modality, on) -> None:
    compacts = catalog.compacts_covering(lic.type)
    if not compacts:
        answer.reasons.append(f"{lic.label} is for {lic.jurisdiction}, not {client_jurisdiction}, and no compact "
                              f"covers {kind.title}")
        return
    for compact in compacts:
        missing = []
        if on < compact.privileges_from:
            missing.append(f"grants privileges only from {compact.privileges_from.isoformat()}")
        if not compact.member_on(lic.jurisdiction, on):
            missing.append(f"{lic.jurisdiction} (home licence) is not a member")
        if not compact.member_on(client_jurisdiction, on):
            missing.append(f"{client_jurisdiction} is not a member")
        if modality not in compact.modalities:
            missing.append(f"does not cover {modality.replace('_', ' ')} practice")
        if missing:
            answer.reasons.append(f"{lic.label}, {compact.name}: " + "; ".join(missing))
            continue
        terms = compact.modalities[modality]
        limit = f", up to {terms['days_per_year']} days a year" if terms.get("days_per_year") else ""
        answer.basis.append(f"{compact.name} privilege for {modality.replace('_', ' ')} practice in "
                            f"{client_jurisdiction}{limit}, on {lic.label}")
