"""A clinic network of a chosen size, built through the HTTP API as its staff
would build it (the demo's steps, ``confide_client.demo``, at scale): a site of
its own for each run, clinicians with verified licences, hours and a room,
clients on their care teams with consents and accounts, and for each clinician a
session held earlier today with a signed note -- so that the load's reads find
real charts, notes, day sheets, statements and trail entries."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any

from confide_client.demo import SESSION, Demo, DemoError

GIVEN = ("Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jules", "Kai", "Logan", "Morgan",
         "Noor", "Quinn", "Reese", "Sage", "Tatum")
FAMILY = ("Adler", "Brooks", "Chen", "Dalton", "Ellis", "Foster", "Garcia", "Hughes", "Iyer", "Jensen", "Khan",
          "Lopez", "Moreau", "Nakamura", "Okoro", "Patel")


class Network(Demo):
    def call(self, method: str, path: str, token: str, expect=(200, 201), **kwargs) -> Any:
        """As the demo calls, slowing down when the gateway says so (a person is
        allowed 20 requests a second; building a network is one person's hundreds)."""
        for _ in range(20):
            answer = self.http.request(method, f"{self.base}/api/v1{path}", timeout=60,
                                       headers={"Authorization": f"Bearer {token}"}, **kwargs)
            if answer.status_code != 429:
                break
            time.sleep(float(answer.headers.get("Retry-After", "1")))
        wanted = (expect,) if isinstance(expect, int) else expect
        if answer.status_code not in wanted:
            raise DemoError(f"{method} {path} answered {answer.status_code}, not {wanted}: {answer.text[:500]}")
        return answer.json() if answer.content else None

    def build(self, clinicians: int, clients_each: int, people: int) -> dict[str, Any]:
        """The plan the load runs from: who is who, with their tokens and ids
        (``people`` of each office role, so no two simulated people share a login)."""
        tag = secrets.token_hex(3)
        site = f"load-{tag}"
        admin, cred = (self.token("load-admin", "admin", [site]),
                       self.token("load-cred", "credentialing_officer", [site]))
        desk, biller = self.token("load-desk", "front_desk", [site]), self.token("load-biller", "biller", [site])
        self.call("POST", "/sites", admin, json={"id": site, "name": f"Load {tag}", "jurisdiction": "US-NY",
                                                 "time_zone": "America/New_York", "late_cancel_hours": 24})
        self.call("PUT", "/fees", admin, json={"site_id": site, "payer": "self_pay", "code": "90834",
                                               "amount_minor": 15000, "currency": "USD",
                                               "effective_from": "2026-01-01"})
        team = []
        for i in range(clinicians):
            who = f"{site}-dr-{i}"
            self.say(f"  clinician {i + 1} of {clinicians}: licence, hours, room, {clients_each} clients")
            self.call("POST", "/clinicians", cred, json={"id": who, "given_name": GIVEN[i % len(GIVEN)],
                                                        "family_name": FAMILY[i % len(FAMILY)], "home_site_id": site})
            lic = self.call("POST", f"/clinicians/{who}/licenses", cred, json={
                "type": "lcsw", "jurisdiction": "US-NY", "number": f"{tag}{i:04d}", "issued_on": "2019-06-01",
                "expires_on": (self.today + timedelta(days=700)).isoformat()})
            self.call("POST", f"/licenses/{lic['id']}/verification", cred, json={
                "source": "load harness", "reference": lic["number"], "result": "verified"})
            for weekday in range(7):
                self.call("POST", "/availability", desk, json={
                    "clinician_id": who, "site_id": site, "weekday": weekday, "starts": "00:00", "ends": "23:59",
                    "valid_from": (self.today - timedelta(days=7)).isoformat()})
            room = self.call("POST", f"/sites/{site}/rooms", admin, json={"name": f"Room {i + 1}", "capacity": 2})["id"]
            clients = [self._client(site, desk, biller, who, i, k) for k in range(clients_each)]
            token = self.token(who, "clinician", [site])
            session = self._session(site, desk, token, who, room, clients[0])
            note = self.call("POST", "/notes", token, json={
                "kind": "progress", "session_kind": "individual", "appointment_id": session,
                "service_date": self.today.isoformat(), "site_id": site, "client_ids": [clients[0]],
                "sections": [{"body": "Reviewed the week; agreed on a plan for the next session."}]})["id"]
            self.call("POST", f"/notes/{note}/signature", token)
            team.append({"id": who, "token": token, "room": room, "clients": clients,
                           "notes": [[clients[0], note]]})
        staff = {role: [self.token(f"load-{role}-{n}", role, [] if role == "compliance_officer" else [site])
                        for n in range(people)] for role in ("front_desk", "biller", "compliance_officer")}
        return {"base": self.base, "site": site, "desks": staff["front_desk"], "billers": staff["biller"],
                "officers": staff["compliance_officer"], "clinicians": team,
                "names": sorted({FAMILY[i % len(FAMILY)] for i in range(clinicians * 3)})}

    def _client(self, site: str, desk: str, biller: str, clinician: str, i: int, k: int) -> str:
        n = i * 7 + k
        cid = self.call("POST", "/clients", desk, json={
            "given_name": GIVEN[n % len(GIVEN)], "family_name": FAMILY[(n * 5) % len(FAMILY)],
            "date_of_birth": f"{1960 + n % 40}-0{1 + n % 9}-1{n % 9}", "home_site_id": site})["id"]
        self.call("POST", f"/clients/{cid}/care-team", desk, json={"clinician_id": clinician, "role": "primary"})
        self.call("POST", f"/clients/{cid}/consents", desk, json={
            "kind": "treatment", "signed_by": "the client",
            "effective_on": (self.today - timedelta(days=30)).isoformat()})
        self.until("billing to know the client", lambda: self.call("POST", "/accounts", biller, json={
            "client_id": cid, "payer": "self_pay", "currency": "USD"}))
        return cid

    def _session(self, site: str, desk: str, clinician: str, who: str, room: str, client: str) -> str:
        booking = {**SESSION, "site_id": site, "clinician_id": who, "client_ids": [client], "modality": "in_person",
                   "room_id": room, "starts_at": self.at(hours=-2)}
        booked = self.until("scheduling to learn of the licence", lambda: self.call(
            "POST", "/appointments", desk, json=booking, expect=201))
        self.call("POST", f"/appointments/{booked['id']}/check-in", desk)
        self.call("POST", f"/appointments/{booked['id']}/completion", clinician, json={"minutes": 50})
        return booked["id"]
