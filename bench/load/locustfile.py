"""A clinic day, as Locust users: clinicians opening charts and reading and
adding to notes, the front desk with day sheets, client searches, slot
searches and bookings, a biller with statements and invoices, a compliance
officer querying the trail. Every request goes through the gateway over HTTP
with a bearer token, as the clinic's own clients send them.

Run by ``python -m bench.load`` (``make load``) and ``python -m bench.faults``
(``make faults``), which build the network and hand its plan over in
``LOAD_PLAN``. With ``LOAD_LOG`` set, every request is also written there as one
JSON line -- when it started, the operation, the status, how long it took, the
trace id the gateway answered with, whether an error came as a problem document --
which is what ``make faults`` holds the audit trail against."""

from __future__ import annotations

import itertools
import json
import os
import random
from datetime import UTC, date, datetime, timedelta

from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser

from bench.load import LISTS, shown

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read()) if "LOAD_PLAN" in os.environ else {}
THINK = float(os.environ.get("LOAD_THINK", "1.25"))  # mean seconds a person takes between requests; 0: none
API = "/api/v1"
TURNS = {role: itertools.count() for role in ("clinicians", "desks", "billers", "officers")}
LOG = open(os.environ["LOAD_LOG"], "a", buffering=1) if os.environ.get("LOAD_LOG") else None


@events.request.add_listener
def log_request(request_type, name, response_time, response_length, response=None, exception=None,
                start_time=None, **_):
    if LOG is None:
        return
    status = getattr(response, "status_code", 0) or 0
    headers = getattr(response, "headers", None) or {}
    # how many a list showed (a day sheet's appointments, invoices; one with none shows no client, records no
    # access), and how many distinct clients: an access recorded for each
    listed = clients = None
    if name in LISTS and status == 200:
        try:
            listed, clients = shown(name, response.json())
        except (ValueError, AttributeError, TypeError, KeyError):
            listed = clients = None
    LOG.write(json.dumps({"t": start_time, "op": name, "status": status, "ms": round(response_time or 0, 1),
                          "trace": headers.get("X-Trace-Id"), "retry_after": headers.get("Retry-After"),
                          "listed": listed, "clients": clients,
                          "problem": headers.get("Content-Type", "").startswith("application/problem+json")})
              + "\n")


def person(role: str) -> str:
    return PLAN[role][next(TURNS[role]) % len(PLAN[role])]


class Staff(FastHttpUser):
    """One person: each simulated user signs in as someone of their own (the
    gateway allows a person 20 requests a second), clinicians in turn."""

    abstract = True
    people = ""  # who in the plan: "desks", "billers", "officers"
    wait_time = between(0.4 * THINK, 1.6 * THINK) if THINK else constant(0)  # a person between clicks
    token = ""

    def on_start(self):
        self.token = person(self.people)

    def get(self, path: str, label: str, **params):
        return self._send("GET", path, label, params=params or None)

    def _send(self, method: str, path: str, label: str, expected=(), **kwargs):
        headers = {"Authorization": f"Bearer {self.token}"}
        with self.client.request(method, API + path, name=label, headers=headers, catch_response=True,
                                 **kwargs) as answer:
            if answer.status_code < 300 or answer.status_code in expected:
                answer.success()
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
            return answer


class Clinician(Staff):
    weight = 6

    def on_start(self):
        me = PLAN["clinicians"][next(TURNS["clinicians"]) % len(PLAN["clinicians"])]
        self.token, self.me = me["token"], me

    @task(4)
    def open_chart(self):
        self.get(f"/clients/{random.choice(self.me['clients'])}", "GET /clients/{id}")

    @task(3)
    def list_notes(self):
        self.get(f"/clients/{random.choice(self.me['clients'])}/notes", "GET /clients/{id}/notes")

    @task(3)
    def read_note(self):
        client, note = random.choice(self.me["notes"])
        self.get(f"/clients/{client}/notes/{note}", "GET /clients/{id}/notes/{note}")

    @task(2)
    def my_day(self):
        self.get("/day-sheet", "GET /day-sheet (own)")

    @task(1)
    def add_to_a_note(self):
        client, note = random.choice(self.me["notes"])
        self._send("POST", f"/notes/{note}/addenda", "POST /notes/{note}/addenda",
                   json={"client_id": client, "body": "Client called to reschedule; no change to the plan."})


class FrontDesk(Staff):
    weight = 3
    people = "desks"

    @task(4)
    def day_sheet(self):
        self.get("/day-sheet", "GET /day-sheet", site_id=PLAN["site"])

    @task(3)
    def search(self):
        self.get("/clients", "GET /clients?name", name=random.choice(PLAN["names"]), site_id=PLAN["site"])

    @task(1)
    def slots(self):
        first = date.today() + timedelta(days=random.randint(1, 30))
        self.get("/slots", "GET /slots", clinician_id=random.choice(PLAN["clinicians"])["id"], site_id=PLAN["site"],
                 service_kind="individual_psychotherapy", minutes="50", from_date=first.isoformat(),
                 to_date=(first + timedelta(days=2)).isoformat())

    @task(2)
    def book(self):
        """A session some weeks ahead; a time already taken is a 409 the desk expects now and then."""
        dr = random.choice(PLAN["clinicians"])
        at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(
            days=random.randint(1, 90), hours=random.randint(0, 23))
        self._send("POST", "/appointments", "POST /appointments", expected=(409,), json={
            "site_id": PLAN["site"], "clinician_id": dr["id"], "client_ids": [random.choice(dr["clients"])],
            "kind": "individual", "service_kind": "individual_psychotherapy", "modality": "in_person",
            "room_id": dr["room"], "planned_minutes": 50, "starts_at": at.isoformat()})


class Biller(Staff):
    weight = 1
    people = "billers"

    @task(3)
    def statement(self):
        dr = random.choice(PLAN["clinicians"])
        self.get(f"/clients/{random.choice(dr['clients'])}/statement", "GET /clients/{id}/statement")

    @task(1)
    def invoices(self):
        self.get("/invoices", "GET /invoices", site_id=PLAN["site"])


class ComplianceOfficer(Staff):
    weight = 1
    people = "officers"

    @task(3)
    def client_history(self):
        dr = random.choice(PLAN["clinicians"])
        self.get("/audit/entries", "GET /audit/entries?client_id", client_id=random.choice(dr["clients"]))

    @task(1)
    def denied(self):
        self.get("/audit/reports/denied", "GET /audit/reports/denied")
