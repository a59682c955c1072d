"""The demo network: a small clinic network built through the HTTP API, as its
staff would build it, so that a newcomer's first ``confide audit query`` shows a
real trail. ``make run`` loads it once (``confide-stack up --no-demo`` skips it);
``confide demo`` loads it into any running stack; the gateway's role-matrix
test builds its world with it.

Two sites, four clinicians (one licence lapsing within the month, one
suspended -- its session waits in the reassignment queue -- one supervisee),
two clients, sessions held earlier today (completed: they are over) with
signed notes, a psychotherapy note, charges, an invoice, a payment and an
insurance claim, a disclosure under a release, an upcoming appointment, a
weekly series, a waitlist entry, Robin using the client portal (their
appointments, a time asked for, their statement) -- and a refused read and a
break-the-glass read, so the trail has both."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from confide_client.devtokens import mint

MARKER = "demo.json"
NORTH, SOUTH = "north", "south"
ANA, BEN, SAM, CARA = "dr-ana-ruiz", "dr-ben-okafor", "dr-sam-lee", "dr-cara-diaz"
SESSION = {"kind": "individual", "service_kind": "individual_psychotherapy", "planned_minutes": 50}


class DemoError(RuntimeError):
    """A step of the demo got an answer it did not expect (the problem document is in the message)."""


class Demo:
    def __init__(self, base_url: str, state: Path, say: Callable[[str], None] = print) -> None:
        self.base = base_url.rstrip("/")
        self.state = state
        self.say = say
        self.http = requests.Session()
        self.today = date.today()
        self.ids: dict[str, Any] = {}

    # --- plumbing ---------------------------------------------------------------------
    def token(self, user: str, role: str, sites=(NORTH, SOUTH)) -> str:
        return mint(self.state, user, role, list(sites))

    def call(self, method: str, path: str, token: str, expect: int | tuple[int, ...] = (200, 201), **kwargs) -> Any:
        answer = self.http.request(method, f"{self.base}/api/v1{path}", timeout=60,
                                   headers={"Authorization": f"Bearer {token}"}, **kwargs)
        wanted = (expect,) if isinstance(expect, int) else expect
        if answer.status_code not in wanted:
            raise DemoError(f"{method} {path} answered {answer.status_code}, not {wanted}: {answer.text[:500]}")
        return answer.json() if answer.content else None

    def until(self, what: str, attempt: Callable[[], Any], timeout: float = 60) -> Any:
        """Events take a moment between services (a licence reaches scheduling, a
        completed session reaches billing): try again until they have."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = attempt()
                if result:
                    return result
            except DemoError:
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise DemoError(f"gave up waiting for {what} after {timeout:.0f}s")
            time.sleep(0.25)

    def loaded(self) -> bool:
        """Whether this stack already holds the demo (its marker names a client the records service knows)."""
        marker = self.state / MARKER
        if not marker.exists():
            return False
        client = json.loads(marker.read_text()).get("robin")
        answer = self.http.get(f"{self.base}/api/v1/clients/{client}", timeout=10,
                               headers={"Authorization": f"Bearer {self.token('demo-admin', 'admin')}"})
        return answer.status_code == 200

    # --- the network ------------------------------------------------------------------
    def load(self) -> dict[str, Any]:
        admin, cred = self.token("demo-admin", "admin"), self.token("demo-credentialing", "credentialing_officer")
        desk, biller = self.token("demo-front-desk", "front_desk"), self.token("demo-biller", "biller")
        ana, ben, sam = (self.token(who, role) for who, role in ((ANA, "clinician"), (BEN, "clinician"),
                                                                 (SAM, "supervisor")))
        ids = self.ids

        self.say("sites, rooms and hours")
        for site, name, jurisdiction in ((NORTH, "Confide North (Albany)", "US-NY"),
                                         (SOUTH, "Confide South (Newark)", "US-NJ")):
            self.call("POST", "/sites", admin, json={"id": site, "name": name, "jurisdiction": jurisdiction,
                                                     "time_zone": "America/New_York", "late_cancel_hours": 24})
        ids["room"] = self.call("POST", f"/sites/{NORTH}/rooms", admin,
                                json={"name": "Room 1", "capacity": 4, "telehealth_capable": True})["id"]

        self.say("clinicians and their licences (one lapses within the month), a supervision")
        for who, given, family, npi in ((ANA, "Ana", "Ruiz", "1245319599"), (BEN, "Ben", "Okafor", "1003000126"),
                                        (SAM, "Sam", "Lee", "1111111112"), (CARA, "Cara", "Diaz", "1588667638")):
            self.call("POST", "/clinicians", cred, json={"id": who, "given_name": given, "family_name": family,
                                                        "national_id": npi, "home_site_id": NORTH})
        licences = {ANA: ("lcsw", "082114", 700), BEN: ("lmhc", "011967", 21), SAM: ("lcsw", "074420", 900),
                    CARA: ("lmft", "003512", 500)}
        for who, (kind, number, days) in licences.items():
            lic = self.call("POST", f"/clinicians/{who}/licenses", cred, json={
                "type": kind, "jurisdiction": "US-NY", "number": number,
                "issued_on": "2019-06-01", "expires_on": (self.today + timedelta(days=days)).isoformat()})
            self.call("POST", f"/licenses/{lic['id']}/verification", cred, json={
                "source": "NY Office of the Professions online verification", "reference": lic["number"],
                "result": "verified"})
            ids[f"license:{who}"] = lic["id"]
        ids["supervision"] = self.call("POST", "/supervisions", cred, json={
            "supervisor_id": SAM, "supervisee_id": BEN, "jurisdiction": "US-NY",
            "starts_on": (self.today - timedelta(days=200)).isoformat()})["id"]
        for who in (ANA, BEN, CARA):
            for weekday in range(7):  # around the clock, so the demo books whenever it is run
                self.call("POST", "/availability", desk, json={
                    "clinician_id": who, "site_id": NORTH, "weekday": weekday, "starts": "00:00", "ends": "23:59",
                    "valid_from": (self.today - timedelta(days=7)).isoformat()})

        self.say("fees, the sliding scale, the no-show policy, the billing provider")
        for payer, fees in (("self_pay", {"90791": 20000, "90834": 15000, "90837": 18000}),
                            ("aetna", {"90791": 16000, "90834": 11000, "90837": 13000})):
            for code, amount in fees.items():
                self.call("PUT", "/fees", admin, json={"site_id": NORTH, "payer": payer, "code": code,
                                                       "amount_minor": amount, "currency": "USD",
                                                       "effective_from": "2026-01-01"})
        self.call("PUT", "/sliding-scales", admin, json={"site_id": NORTH, "currency": "USD", "tiers": [
            {"name": "A", "max_income_minor": 2_500_000, "percent": 40},
            {"name": "B", "max_income_minor": 5_000_000, "percent": 60}]})
        self.call("PUT", "/site-policies", admin, json={"site_id": NORTH, "currency": "USD",
                                                        "no_show_fee_minor": 5000, "late_cancel_fee_minor": 5000})
        self.call("PUT", "/billing-providers", admin, json={
            "site_id": NORTH, "name": "Confide North Clinic", "npi": "1111111120", "tax_id": "123456789",
            "address": {"line1": "1 State St", "city": "Albany", "region": "NY", "postal_code": "12207"}})

        self.say("two clients: care teams, consents, accounts, diagnoses, a treatment plan")
        robin = ids["robin"] = self.call("POST", "/clients", desk, json={
            "given_name": "Robin", "family_name": "Hale", "date_of_birth": "1988-04-02", "home_site_id": NORTH,
            "pronouns": "they/them"})["id"]
        # Robin's own login is linked the way a clinic does it: a one-time code the front desk hands over,
        # redeemed by Robin signed in as themselves
        code = self.call("POST", f"/clients/{robin}/invitations", desk, json={})["code"]
        self.call("POST", "/me/record-link", self.token("client-robin", "client", sites=()), json={"code": code})
        jordan = ids["jordan"] = self.call("POST", "/clients", desk, json={
            "given_name": "Jordan", "family_name": "Lee", "date_of_birth": "1975-11-20", "home_site_id": NORTH,
            "insurance": {"payer_id": "aetna", "member_id": "W123456789"}})["id"]
        self.call("POST", f"/clients/{robin}/care-team", desk, json={"clinician_id": ANA, "role": "primary"})
        self.call("POST", f"/clients/{jordan}/care-team", desk, json={"clinician_id": BEN, "role": "primary"})
        signed_on = (self.today - timedelta(days=30)).isoformat()
        for client, name in ((robin, "Robin Hale"), (jordan, "Jordan Lee")):
            for kind in ("treatment", "telehealth"):
                self.call("POST", f"/clients/{client}/consents", desk, json={
                    "kind": kind, "signed_by": name, "effective_on": signed_on})
        ids["release"] = self.call("POST", f"/clients/{robin}/consents", desk, json={
            "kind": "release_of_information", "recipient": "Dr. Priya Patel, primary care", "signed_by": "Robin Hale",
            "purpose": "coordination of care", "scope": ["diagnoses", "treatment_plans"], "effective_on": signed_on,
            "expires_on": (self.today + timedelta(days=365)).isoformat()})["id"]
        # (billing learns a client's home site from records' event: a moment after registration)
        self.until("billing to know Robin", lambda: self.call("POST", "/accounts", biller, json={
            "client_id": robin, "payer": "self_pay", "currency": "USD", "annual_income_minor": 3_000_000}))
        self.until("billing to know Jordan", lambda: self.call("POST", "/accounts", biller, json={
            "client_id": jordan, "payer": "aetna", "currency": "USD", "member_id": "W123456789"}))
        self.call("POST", f"/clients/{robin}/diagnoses", ana, json={"code": "F41.1", "status": "active"})
        self.call("POST", f"/clients/{jordan}/diagnoses", ben, json={"code": "F32.1", "status": "active"})
        self.call("POST", f"/clients/{robin}/treatment-plans", ana, json={
            "goals": [{"description": "Fewer panic episodes at work", "measure": "GAD-7 under 10"}],
            "review_on": (self.today + timedelta(days=90)).isoformat()})

        self.say("sessions held earlier today: booked, checked in, completed, noted and signed")
        ids["robin_session"] = self.session(desk, ana, robin, ANA, "in_person", hours=-3)  # (over: a session is
        ids["jordan_session"] = self.session(desk, ben, jordan, BEN, "telehealth", hours=-2)  # completed once held)
        ids["robin_note"] = self.note(ana, robin, ids["robin_session"], "Practised paced breathing; reviewed the "
                                      "week's panic log. Plan: graded exposure at the office.")
        ids["jordan_note"] = self.note(ben, jordan, ids["jordan_session"], "Mood 4/10; sleep improving. "
                                       "Behavioural activation schedule agreed.")
        self.call("POST", f"/notes/{ids['jordan_note']}/cosignature", sam)
        ids["psychotherapy_note"] = self.call("POST", "/psychotherapy-notes", ana, json={
            "client_id": robin, "appointment_id": ids["robin_session"], "service_date": self.today.isoformat(),
            "body": "Process notes: transference around authority at work.", "sign": True})["id"]
        ids["upcoming"] = self.call("POST", "/appointments", desk, json={
            **SESSION, "site_id": NORTH, "clinician_id": ANA, "client_ids": [robin], "modality": "in_person",
            "room_id": ids["room"], "starts_at": self.at(days=7)})["id"]
        ids["series"] = self.call("POST", "/appointment-series", desk, json={"appointment": {
            **SESSION, "site_id": NORTH, "clinician_id": ANA, "client_ids": [robin], "modality": "in_person",
            "room_id": ids["room"], "starts_at": self.at(days=14)}, "rrule": "FREQ=WEEKLY;COUNT=6"})["series_id"]

        self.say("a licence suspended: its session waits in the reassignment queue")
        ids["flagged"] = self.until("scheduling to learn of Cara's licence", lambda: self.call(
            "POST", "/appointments", desk, expect=201, json={
                **SESSION, "site_id": NORTH, "clinician_id": CARA, "client_ids": [jordan], "modality": "telehealth",
                "client_jurisdiction": "US-NY", "starts_at": self.at(days=10)}))["id"]
        self.call("POST", f"/licenses/{ids['license:' + CARA]}/suspension", cred,
                  json={"reason": "board inquiry pending"})
        self.until("scheduling to flag the session", lambda: self.call(
            "GET", f"/appointments/{ids['flagged']}", desk)["needs_reassignment"])
        ids["waitlist"] = self.call("POST", "/waitlist", desk, json={
            "site_id": NORTH, "service_kind": "individual_psychotherapy", "client_id": jordan,
            "clinician_id": BEN})["id"]

        self.say("billing: charges from the sessions, an invoice, a payment, a claim")
        statement = self.until("the session's charge", lambda: (s := self.call(
            "GET", f"/clients/{robin}/statement", biller))["charges"] and s)
        ids["charge"] = statement["charges"][0]["id"]
        period = {"period_start": (self.today - timedelta(days=31)).isoformat(),
                  "period_end": (self.today + timedelta(days=1)).isoformat()}
        ids["invoice"] = self.call("POST", "/invoices", biller, json={"client_id": robin, **period})["id"]
        self.call("POST", "/payments", biller, json={"client_id": robin, "amount_minor": 5000, "currency": "USD",
                                                     "method": "card", "reference": "demo-card-4242"})
        self.until("the telehealth session's charge", lambda: self.call(
            "GET", f"/clients/{jordan}/statement", biller)["charges"])
        ids["claim"] = self.call("POST", "/claims", biller, expect=201, json={
            "appointment_id": ids["jordan_session"], "client_id": jordan})["id"]

        self.say("Robin, signed in, asks for a telehealth time and reads their statement")
        robin_login = self.token("client-robin", "client", sites=())
        self.until("scheduling to know Robin's login", lambda: self.call("GET", "/me/appointments", robin_login))
        ids["portal_request"] = self.call("POST", "/me/appointments", robin_login, expect=201, json={
            "site_id": NORTH, "clinician_id": ANA, "service_kind": "individual_psychotherapy",
            "modality": "telehealth", "client_jurisdiction": "US-NY", "starts_at": self.at(days=12)})["id"]
        self.until("billing to know Robin's login", lambda: self.call("GET", "/me/statement", robin_login))

        self.say("a refused read, a break-the-glass read and a disclosure")
        self.call("GET", f"/clients/{robin}", ben, expect=403)  # not on Robin's care team
        ids["grant"] = self.call("POST", f"/clients/{robin}/break-glass", ben, json={
            "reason": "Robin called the crisis line; Dr. Ruiz unreachable", "minutes": 60})["id"]
        self.call("GET", f"/clients/{robin}/diagnoses", ben)
        self.call("POST", f"/clients/{robin}/disclosures", ana, json={"consent_id": ids["release"]})

        self.say("a checkpoint of the trail, cosigned by the witness, covering the demo's last access")
        officer = self.token("demo-compliance", "compliance_officer")
        self.until("the trail to take the disclosure, the demo's last access", lambda: self.call(
            "GET", "/audit/entries", officer, params={"client_id": robin, "action": "disclose"})["entries"])
        self.call("POST", "/audit/checkpoints", officer)
        self.until("the witness to cosign the trail's checkpoints", lambda: witnessed(
            self.call("GET", "/audit/checkpoints", officer)))

        (self.state / MARKER).write_text(json.dumps(ids, indent=2))
        return ids

    def at(self, hours: int = 0, days: int = 0) -> str:
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        return (start + timedelta(hours=hours, days=days)).isoformat()

    def session(self, desk: str, clinician: str, client: str, clinician_id: str, modality: str, hours: int) -> str:
        booking = {**SESSION, "site_id": NORTH, "clinician_id": clinician_id, "client_ids": [client],
                   "modality": modality, "starts_at": self.at(hours=hours)}
        if modality == "telehealth":
            booking["client_jurisdiction"] = "US-NY"
        else:
            booking["room_id"] = self.ids["room"]
        # a licence reaches scheduling as an event: until it has, the booking is refused
        booked = self.until("scheduling to learn of the licences", lambda: self.call(
            "POST", "/appointments", desk, json=booking, expect=201))
        self.call("POST", f"/appointments/{booked['id']}/check-in", desk)
        self.call("POST", f"/appointments/{booked['id']}/completion", clinician, json={"minutes": 53})
        return booked["id"]

    def note(self, clinician: str, client: str, appointment: str, body: str) -> str:
        note = self.call("POST", "/notes", clinician, json={
            "kind": "progress", "session_kind": "individual", "appointment_id": appointment,
            "service_date": self.today.isoformat(), "site_id": NORTH, "client_ids": [client],
            "sections": [{"body": body}]})
        self.call("POST", f"/notes/{note['id']}/signature", clinician)
        return note["id"]


def load(base_url: str, state: Path, say: Callable[[str], None] = print, force: bool = False) -> dict[str, Any]:
    """Load the demo network unless this stack already holds it; the ids of what it made."""
    demo = Demo(base_url, state, say)
    if not force and demo.loaded():
        say("the demo network is already loaded")
        return json.loads((state / MARKER).read_text())
    return demo.load()


def on_stack_ready(state: Path, say: Callable[[str], None]) -> None:
    """`make run`: once the gateway answers ready, load the demo (once per stack)."""
    base = f"http://{os.environ.get('CONFIDE_WEB_SERVER_ADDRESS', '127.0.0.1:8000')}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise DemoError(f"{base}/readyz did not answer 200 within 180s; see the services' logs")
        time.sleep(1)
    load(base, state, say=lambda line: say(f"demo: {line}"))


def witnessed(kept: dict[str, Any]) -> bool:
    """Every chain has a checkpoint, cosigned by a quorum where witnesses are configured."""
    return bool(kept["checkpoints"]) and all(c["witnessed"] or not kept["witnesses"] for c in kept["checkpoints"])
