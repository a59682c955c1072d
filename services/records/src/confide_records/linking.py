"""A person's own login reaches a client's record only through a one-time
invitation the person redeems while signed in: staff make the code (for the
client, or for one of their guardians) and hand it over; nobody types a login
into a record for someone else. A guardian's clinical rights recorded by anyone
but a clinician wait for the approval of one on the care team. Every step is in
the trail."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from confide_access import Action, Caller, deny, enforce, record_access
from confide_contracts import records as events
from confide_contracts.errors import NotFound, conflict
from confide_messaging import UnitOfWork

from confide_records import store
from confide_records.access import Access, Work
from confide_records.domain import policy as p

UnitsOfWork = Callable[[], AbstractContextManager[UnitOfWork]]
INVITATION = "LoginInvitation"
CODE_BYTES = 10  # 80 bits: 16 base32 characters, read out or printed in four groups
NO_SUCH_CODE = "no open invitation with this code: it may have been used, have expired, or be mistyped"


def new_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode()
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def code_digest(code: str) -> str:
    """What is kept of a code: the hash of its letters, however it was grouped or cased."""
    return hashlib.sha256(code.replace("-", "").upper().encode()).hexdigest()


def invite(client_id, data: dict[str, Any]) -> Work:
    """A code for the client's own login or a guardian's, shown this once."""
    def work(a: Access):
        guardian_id = data["guardian_id"]
        if guardian_id is not None:
            row = store.guardian(a.conn, client_id, guardian_id)
            if row is None:
                raise NotFound(f"guardian_id: client {client_id} has no guardian {guardian_id}")
            if row.user_id is not None:
                raise conflict("guardian_id", "this guardian's login is linked already")
        elif store.client_login(a.conn, client_id)[1] is not None:
            raise conflict("client_id", "the client's own login is linked already")
        iid, code = store.new_id(), new_code()
        expires = store.now() + timedelta(days=data["valid_days"])
        store.add_invitation(a.conn, iid, client_id, guardian_id, code_digest(code), a.caller.user_id, expires)
        a.resource_id = str(iid)
        return {"id": str(iid), "client_id": str(client_id), "for": "guardian" if guardian_id else "client",
                "guardian_id": str(guardian_id) if guardian_id else None, "code": code,
                "expires_at": expires.isoformat()}
    return work


def redeem(unit_of_work: UnitsOfWork, who: Caller, code: str) -> dict[str, Any]:
    """Link the signed-in person's login as the invitation says, once. Only the
    person themselves, signed in with a client login, redeems a code; a code that
    opens nothing is a refusal in the trail (someone guessing shows there)."""
    enforce(unit_of_work, who, p.may_redeem(who), action=Action.UPDATE, resource_type=INVITATION)
    with unit_of_work() as uow:
        invitation = store.open_invitation(uow.session.connection(), code_digest(code))
        if invitation is not None:
            return linked(uow, who, invitation)
    deny(unit_of_work, who, action=Action.UPDATE, resource_type=INVITATION, reason=NO_SUCH_CODE)


def linked(uow: UnitOfWork, who: Caller, invitation) -> dict[str, Any]:
    conn = uow.session.connection()
    client_id, guardian_id = invitation.client_id, invitation.guardian_id
    if guardian_id is None:
        if not store.link_client(conn, client_id, who.user_id):
            raise conflict("code", "your login already belongs to another client's record, or this record "
                                   "has a login; ask the clinic")
    elif not store.link_guardian(conn, guardian_id, who.user_id):
        raise conflict("code", "this guardian's login is linked already; ask the clinic")
    store.redeem_invitation(conn, invitation.id, who.user_id)
    linked_as = "guardian" if guardian_id else "client"
    site, _login = store.client_login(conn, client_id)
    record_access(uow, who, action=Action.UPDATE, resource_type="Guardian" if guardian_id else "Client",
                  resource_id=str(guardian_id or client_id), client_id=str(client_id), site_id=site,
                  reason=f"self: login linked as {linked_as} by invitation {invitation.id}")
    answer = {"client_id": str(client_id), "linked_as": linked_as,
              "guardian_id": str(guardian_id) if guardian_id else None}
    uow.emit(events.LOGIN_LINKED, {**answer, "user_id": who.user_id}, actor=who.actor, site_id=site)
    return answer


def acting_for(unit_of_work: UnitsOfWork, who: Caller, other: str) -> dict[str, Any]:
    """Whether ``who`` may act on behalf of ``other``, which the trail then
    records on each access: only along a relation held here (a guardian for the
    client, a supervisor for a supervisee and back). Anything else is a refusal
    in the trail, so nobody can label their accesses as done for someone else."""
    with unit_of_work() as uow:
        basis = store.acting_relation(uow.session.connection(), who, other)
    enforce(unit_of_work, who, p.may_act_for(who, other, basis), action=Action.READ, resource_type="OnBehalfOf",
            resource_id=other)
    return {"on_behalf_of": other, "basis": basis}


def approve_guardian(client_id, guardian_id) -> Work:
    """A clinician on the care team grants the clinical rights staff asked for."""
    def work(a: Access):
        row = store.guardian(a.conn, client_id, guardian_id)
        if row is None:
            raise NotFound(f"guardian_id: client {client_id} has no guardian {guardian_id}")
        if not row.requested:
            raise conflict("guardian_id", "no rights wait for approval")
        store.approve_guardian(a.conn, guardian_id, a.caller.user_id)
        a.resource_id = str(guardian_id)
        return next(g for g in store.client(a.conn, client_id)["guardians"] if g["id"] == str(guardian_id))
    return work
