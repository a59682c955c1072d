"""Helpers for the records service's tests: a small clinic, and the access
events the service wrote to its outbox."""

from __future__ import annotations

from pathlib import Path

from confide_testing import caller, random_id
from sqlalchemy import text

MIGRATIONS = Path(__file__).parents[1] / "src" / "confide_records" / "migrations"
SITE = "site-north"
OTHER_SITE = "site-south"


def client_payload(**overrides) -> dict:
    data = {
        "given_name": "Robin",
        "family_name": random_id("Hale"),
        "date_of_birth": "1988-04-02",
        "home_site_id": SITE,
        "phone": "+1 555 0100",
        "emergency_contacts": [{"name": "Sam Hale", "relationship": "sibling", "phone": "+1 555 0101"}],
        "insurance": {"payer_id": "60054", "member_id": "W123456789"},
    }
    data.update(overrides)
    return data


class Clinic:
    def __init__(self, rpc, engine) -> None:
        self.rpc = rpc
        self.engine = engine
        self.front_desk = caller("front_desk", (SITE,))
        self.admin = caller("admin", (SITE,))
        self.clinician = caller("clinician", (SITE,))
        self.client_user = random_id("client-login")
        self.client = rpc.register_client(self.front_desk, client_payload())
        self.client_id = self.client["id"]
        self.link(self.client_id, self.client_user)
        rpc.assign_care_team(self.front_desk, self.client_id,
                             {"clinician_id": self.clinician["user_id"], "role": "primary"})

    def link(self, client_id: str, user_id: str, guardian_id: str | None = None) -> dict:
        """Link a login as the clinic does: the front desk makes a code, the person redeems it."""
        code = self.rpc.invite_login(self.front_desk, client_id, {"guardian_id": guardian_id})["code"]
        return self.rpc.redeem_invitation(caller("client", (), user_id=user_id, purpose="client_request"), code)

    def guardian(self, client_id: str, user_id: str, may_see: list[str], **extra) -> dict:
        """A guardian with a linked login; clinical rights as a clinician on the care team records them."""
        recorder = self.clinician if set(may_see) & {"diagnoses", "treatment_plans", "notes"} else self.front_desk
        guardian = self.rpc.add_guardian(recorder, client_id, {"name": "Pat Hale", "relationship": "parent",
                                                               "may_see": may_see, **extra})
        self.link(client_id, user_id, guardian["id"])
        return guardian

    def new_client(self, primary: dict | None = None, **overrides) -> str:
        client = self.rpc.register_client(self.front_desk, client_payload(**overrides))
        if primary is not None:
            self.rpc.assign_care_team(self.front_desk, client["id"],
                                      {"clinician_id": primary["user_id"], "role": "primary"})
        return client["id"]

    def join(self, client_id: str, clinician: dict, role: str = "co_therapist") -> None:
        self.rpc.assign_care_team(self.front_desk, client_id, {"clinician_id": clinician["user_id"], "role": role})

    def as_client(self) -> dict:
        return caller("client", (), user_id=self.client_user, purpose="client_request")

    def note(self, author: dict, client_ids: list[str], sections: list[dict], *, session_kind="individual",
             sign=True) -> str:
        note = self.rpc.create_note(author, {
            "kind": "progress", "session_kind": session_kind, "appointment_id": random_id("appt"),
            "service_date": "2026-11-20", "site_id": SITE, "client_ids": client_ids, "sections": sections,
        })
        if sign:
            self.rpc.sign_note(author, note["id"])
        return note["id"]

    def outbox_mark(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT coalesce(max(seq), 0) FROM outbox")).scalar()

    def access_events(self, since: int) -> list[dict]:
        """Access events written to the outbox after ``since``: the envelope's
        actor and site beside the payload."""
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT message FROM outbox WHERE seq > :since AND type = 'records.access.recorded' ORDER BY seq"
            ), {"since": since}).scalars()
            return [{**r["payload"], "actor": r["actor"], "site_id": r["site_id"]} for r in rows]

    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def start_supervision(engine, supervisor: dict, supervisee: dict, *, starts_on="2026-01-01", ends_on=None,
                      ended=False):
    """Publish ``credentialing.supervision.started`` (or ``ended``) as credentialing
    would: written to an outbox (here the records database's own, whose relay is
    running) and delivered through the broker to the records service's handler.
    Returns the event; wait for it with ``wait_for_handled``."""
    import confide_contracts  # noqa: F401
    from confide_events import Actor, registry
    from confide_messaging import UnitOfWork
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        uow = UnitOfWork(session, "credentialing", registry)
        return uow.emit(
            "credentialing.supervision.ended" if ended else "credentialing.supervision.started",
            {"supervision_id": f"sup-{supervisor['user_id']}-{supervisee['user_id']}",
             "supervisor_id": supervisor["user_id"], "supervisee_id": supervisee["user_id"],
             "jurisdiction": "US-NY", "starts_on": starts_on, "ends_on": ends_on},
            actor=Actor(id="cred-officer", role="credentialing_officer"),
        )
