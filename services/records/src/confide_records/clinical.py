"""Diagnoses (ICD-10-CM, F chapter) and treatment plans (goals sealed under the
record key; a new plan replaces the active one)."""

from __future__ import annotations

from typing import Any

import orjson
from confide_contracts.codes import icd10
from confide_persistence import plain

from confide_records import store
from confide_records.access import Access, Work
from confide_records.sealing import Sealers


def add_diagnosis(client_id, data: dict[str, Any]) -> Work:
    code = icd10.lookup(data.pop("code"))

    def work(a: Access):
        did = store.new_id()
        store.add_diagnosis(a.conn, did, client_id, a.caller.user_id,
                            {"code": code.code, "description": code.description, **data})
        a.resource_id = str(did)
        return {"id": str(did), "code": code.code, "description": code.description, "status": data["status"],
                "onset_on": data["onset_on"].isoformat() if data["onset_on"] else None}
    return work


def diagnoses(client_id) -> Work:
    return lambda a: store.diagnoses(a.conn, client_id)


def create_plan(sealers: Sealers, client_id, data: dict[str, Any], goals: list) -> Work:
    def work(a: Access):
        pid = store.new_id()
        store.replace_plan(a.conn, pid, client_id, a.caller.user_id, {
            "starts_on": data["starts_on"], "review_on": data["review_on"],
            "goals_ciphertext": sealers.notes.seal(orjson.dumps(goals).decode())})
        a.resource_id = str(pid)
        return {"id": str(pid), "status": "active", "starts_on": data["starts_on"].isoformat(),
                "review_on": data["review_on"].isoformat(), "goals": goals}
    return work


def plans(sealers: Sealers, conn, client_id) -> list[dict[str, Any]]:
    rows = store.plans(conn, client_id)
    goals = sealers.notes.open_many([r.goals_ciphertext for r in rows])
    out = []
    for row, text in zip(rows, goals, strict=True):
        plan = plain(row)
        del plan["goals_ciphertext"]
        plan["goals"] = orjson.loads(text)
        out.append(plan)
    return out


def listed_plans(sealers: Sealers, client_id) -> Work:
    return lambda a: plans(sealers, a.conn, client_id)
