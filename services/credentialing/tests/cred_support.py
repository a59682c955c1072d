"""Helpers for the credentialing tests."""

from __future__ import annotations

from datetime import date, timedelta

from confide_testing import caller, random_id
from sqlalchemy import text

OFFICER = caller("credentialing_officer", ("site-a",), purpose="operations")
VERIFIED = {"source": "NY Office of the Professions online verification", "reference": "OP-2026-1",
            "result": "verified"}

# valid NPIs (Luhn with the 80840 prefix)
NPIS = iter(["1234567893", "1245319599", "1003000126", "1114025228", "1588667638", "1497758544", "1730152216",
             "1972555444"])


def clinician(rpc, **overrides) -> str:
    data = {"id": random_id("dr"), "given_name": "Ana", "family_name": "Ruiz", "home_site_id": "site-a"}
    data.update(overrides)
    return rpc.register_clinician(OFFICER, data)["id"]


def licensed(rpc, clinician_id: str, type_="lcsw", jurisdiction="US-NY", *, expires_in=400, verify=True,
             issued=date(2020, 1, 1)) -> dict:
    lic = rpc.record_license(OFFICER, clinician_id, {
        "type": type_, "jurisdiction": jurisdiction, "number": random_id("L"),
        "issued_on": issued.isoformat(), "expires_on": (date.today() + timedelta(days=expires_in)).isoformat()})
    if verify:
        lic = rpc.verify_license(OFFICER, lic["id"], VERIFIED)
    return lic


def outbox(engine, type_prefix: str = "credentialing.") -> list[dict]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT message FROM outbox WHERE type LIKE :p ORDER BY seq"),
                                 {"p": type_prefix + "%"}).scalars())
