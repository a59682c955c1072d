"""An 837P-shaped professional claim as a JSON document, and the checks it must
pass before it is exported (the X12 loops it mirrors are named beside each
part). Diagnosis pointers are letters A-L, as on the CMS-1500 and in the 837P
(up to 12 diagnoses, up to 4 pointers per service line)."""

from __future__ import annotations

import string
from enum import StrEnum
from typing import Any

from confide_contracts.errors import conflict
from confide_licensure.identifiers import npi_is_valid

from confide_billing.domain.coding import known_code

POINTERS = string.ascii_uppercase[:12]
MAX_POINTERS_PER_LINE = 4


def build_claim(*, claim_id: str, billing_provider: dict, payer: str, member_id: str | None, client_id: str,
                rendering: dict, supervising: dict | None, diagnoses: list[str], lines: list[dict],
                currency: str) -> dict[str, Any]:
    codes = list(dict.fromkeys(diagnoses))[:len(POINTERS)]
    pointers = [POINTERS[i] for i in range(min(len(codes), MAX_POINTERS_PER_LINE))]
    service_lines = [{
        "line": n, "procedure_code": line["code"], "modifiers": line["modifiers"], "units": line["units"],
        "charge_minor": line["amount_minor"], "place_of_service": line["place_of_service"],
        "service_date": line["service_date"], "diagnosis_pointers": pointers,
    } for n, line in enumerate(lines, start=1)]
    return {
        "claim_id": claim_id,
        "billing_provider": billing_provider,                      # loop 2010AA
        "subscriber": {"payer_id": payer, "member_id": member_id},  # loops 2010BA / 2010BB
        "patient": {"client_id": client_id},
        "rendering_provider": rendering,                           # loop 2310B
        "supervising_provider": supervising,                       # loop 2310D
        "diagnoses": [{"pointer": POINTERS[i], "code": code.replace(".", "")}  # HI segment: no dot
                      for i, code in enumerate(codes)],
        "service_lines": service_lines,                            # loop 2400
        "total_charge_minor": sum(line["charge_minor"] for line in service_lines),
        "currency": currency,
        "frequency_code": "1",  # original claim
    }


def validate_claim(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Every problem, by field path; empty when the claim may be exported."""
    errors: dict[str, list[str]] = {}

    def bad(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    provider = doc.get("billing_provider") or {}
    if not npi_is_valid(provider.get("npi", "")):
        bad("billing_provider.npi", "is not a valid NPI")
    if not (provider.get("tax_id") or "").isdigit() or len(provider.get("tax_id") or "") != 9:
        bad("billing_provider.tax_id", "must be a 9-digit EIN")
    if not doc["subscriber"].get("member_id"):
        bad("subscriber.member_id", "is required for an insured client")
    if doc["subscriber"].get("payer_id") in (None, "", "self_pay"):
        bad("subscriber.payer_id", "a claim goes to a payer; self-pay clients get a superbill")
    for role in ("rendering_provider", "supervising_provider"):
        person = doc.get(role)
        if person is not None and not npi_is_valid(person.get("npi") or ""):
            bad(f"{role}.npi", f"{person.get('id')} has no valid NPI on record")
    if not doc["diagnoses"]:
        bad("diagnoses", "a claim needs at least one diagnosis")
    known = {d["pointer"] for d in doc["diagnoses"]}
    if not doc["service_lines"]:
        bad("service_lines", "nothing to claim")
    for line in doc["service_lines"]:
        where = f"service_lines.{line['line']}"
        if not known_code(line["procedure_code"]):
            bad(f"{where}.procedure_code", f"unknown code {line['procedure_code']}")
        if line["charge_minor"] <= 0:
            bad(f"{where}.charge_minor", "must be positive")
        if not line["diagnosis_pointers"] or set(line["diagnosis_pointers"]) - known:
            bad(f"{where}.diagnosis_pointers", "must point at listed diagnoses")
        if len(line["diagnosis_pointers"]) > MAX_POINTERS_PER_LINE:
            bad(f"{where}.diagnosis_pointers", f"at most {MAX_POINTERS_PER_LINE}")
    if doc["total_charge_minor"] != sum(line["charge_minor"] for line in doc["service_lines"]):
        bad("total_charge_minor", "is not the sum of the service lines")
    return errors


class ClaimStatus(StrEnum):
    """ready --submit--> submitted --> paid | denied"""

    READY = "ready"
    SUBMITTED = "submitted"
    PAID = "paid"
    DENIED = "denied"


BECOMES_FROM = {ClaimStatus.SUBMITTED: (ClaimStatus.READY,), ClaimStatus.PAID: (ClaimStatus.SUBMITTED,),
                ClaimStatus.DENIED: (ClaimStatus.SUBMITTED,)}


def transition(current: str, to: str) -> ClaimStatus:
    """The claim's next status, or :class:`Conflict` naming ``status``."""
    target = ClaimStatus(to)
    if current not in BECOMES_FROM.get(target, ()):
        raise conflict("status", f"a {current} claim cannot become {to}")
    return target
