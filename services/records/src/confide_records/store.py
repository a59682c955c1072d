"""All of records' SQL: clients, guardians, care teams, consents, diagnoses,
treatment plans, notes (sections, addenda, participants), psychotherapy notes,
break-the-glass grants and notifications, and the supervision projection. Each
function takes a connection in the caller's transaction. Clinical text arrives
here sealed (Vault transit ciphertext) and leaves sealed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import uuid_utils.compat as uuid_compat
from confide_access import Caller
from confide_contracts.projections import apply_supervision
from confide_persistence import plain
from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from confide_records import models as m
from confide_records.domain.policy import Relation


def new_id():
    return uuid_compat.uuid7()


def now() -> datetime:
    return datetime.now(UTC)


def active_supervision(supervisor_id, supervisee_column, on: date):
    s = m.supervisions
    return exists().where(
        s.c.supervisor_id == supervisor_id, s.c.supervisee_id == supervisee_column,
        s.c.starts_on <= on, or_(s.c.ends_on.is_(None), s.c.ends_on >= on),
    )


def relation(conn: Connection, caller: Caller, client_id) -> Relation | None:
    """Everything that ties ``caller`` to the client, in one query."""
    c, ct, g, bg = m.clients, m.care_team, m.guardians, m.break_glass_grants
    today, moment = date.today(), now()
    on_team = exists().where(ct.c.client_id == c.c.id, ct.c.clinician_id == caller.user_id, ct.c.ended_at.is_(None))
    supervises = exists().where(
        ct.c.client_id == c.c.id, ct.c.ended_at.is_(None),
        active_supervision(caller.user_id, ct.c.clinician_id, today),
    ) if caller.role == "supervisor" else literal(False)
    guardian = (
        select(g.c.may_see)
        .where(g.c.client_id == c.c.id, g.c.user_id == caller.user_id,
               or_(g.c.valid_until.is_(None), g.c.valid_until >= today))
        .limit(1).scalar_subquery()
    ) if caller.role == "client" else literal(None)
    grant = (
        select(bg.c.reason)
        .where(bg.c.client_id == c.c.id, bg.c.user_id == caller.user_id, bg.c.expires_at > moment)
        .order_by(bg.c.expires_at.desc()).limit(1).scalar_subquery()
    )
    row = conn.execute(
        select(c.c.home_site_id, c.c.user_id, on_team.label("on_team"), supervises.label("supervises"),
               guardian.label("guardian"), grant.label("grant"))
        .where(c.c.id == client_id)
    ).first()
    if row is None:
        return None
    return Relation(
        client_id=str(client_id),
        home_site=row.home_site_id,
        on_care_team=bool(row.on_team),
        supervises_care_team=bool(row.supervises),
        is_client=caller.role == "client" and row.user_id is not None and row.user_id == caller.user_id,
        guardian_may_see=frozenset(row.guardian) if row.guardian is not None else None,
        break_glass_reason=row.grant,
    )


def client(conn: Connection, client_id) -> dict[str, Any]:
    g = m.guardians
    row = conn.execute(select(m.clients).where(m.clients.c.id == client_id)).first()
    result = plain(row)
    result["guardians"] = [
        plain(r) for r in conn.execute(
            select(g.c.id, g.c.name, g.c.relationship, g.c.may_see, g.c.requested, g.c.approved_by,
                   g.c.valid_until, g.c.user_id.is_not(None).label("login_linked"))
            .where(g.c.client_id == client_id).order_by(g.c.created_at))
    ]
    return result


SEARCH_COLUMNS = ("id", "record_number", "given_name", "family_name", "preferred_name", "date_of_birth", "pronouns",
                  "home_site_id", "phone")
NEAREST_WORDS = 8  # the spellings (beside its longer forms) a word of a search stands for: the nearest by trigrams
SIMILARITY = 0.3  # of two words, pg_trgm's default: "robn" finds "robin" (0.375); the ranking puts exact words first


def _likeness(word: str, column):
    """How ``column`` (a folded word) matches ``word``: equal (1), starting with it
    as it is typed (0.9), or near it by trigrams (a typo); the condition that it
    matches at all (a word of two letters: its start only); and that it starts with it."""
    folded = func.confide_fold(word)
    prefix = column.like(folded.concat("%"))
    near = or_(prefix, column.op("%")(folded)) if len(word) >= 3 else prefix
    return case((column == folded, 1.0), (prefix, 0.9), else_=func.similarity(column, folded)), near, prefix


def _word_score(word: str, client_id):
    """The best likeness of ``word`` among one client's name words (NULL: none), by the client's own words."""
    cw = m.client_name_words
    score, near, _ = _likeness(word, cw.c.word)
    return select(func.max(score)).where(cw.c.client_id == client_id, near).scalar_subquery()


def _word_hits(word: str, sites: list[str] | None):
    """The clients with a word in their name like ``word``, best likeness per client."""
    w, cw = m.name_words, m.client_name_words
    score, near, prefix = _likeness(word, w.c.word)
    # every word it starts (a name being typed), and the few nearest spellings (a typo): a long, common
    # name has dozens of words within pg_trgm's threshold, and thousands of clients to look at with them
    starting = select(w.c.word, score.label("score")).where(prefix)
    nearest = select(w.c.word, score.label("score")).where(near, ~prefix).order_by(score.desc(), w.c.word).limit(
        NEAREST_WORDS)
    words = union_all(starting, nearest.subquery().select()).subquery()
    hits = select(cw.c.client_id, func.max(words.c.score).label("score")).join(words, words.c.word == cw.c.word)
    if sites is not None:
        hits = hits.where(cw.c.home_site_id.in_(sites))
    return hits.group_by(cw.c.client_id).subquery()


def search_clients(conn: Connection, caller: Caller, q: dict[str, Any]) -> list[dict[str, Any]]:
    """Clients matching every criterion in ``q``, within what the caller may search
    (their sites; a clinician's care teams), best name match first. Index-backed:
    the words of names (trigrams over the distinct words, then a btree per word
    and site), date of birth, the phone's digits from the end, the record number."""
    c, ct = m.clients, m.care_team
    where, sites = [], None
    if caller.role in ("clinician", "supervisor"):
        on_team = or_(ct.c.clinician_id == caller.user_id, active_supervision(caller.user_id, ct.c.clinician_id,
                                                                              date.today())) \
            if caller.role == "supervisor" else ct.c.clinician_id == caller.user_id
        where.append(exists().where(ct.c.client_id == c.c.id, ct.c.ended_at.is_(None), on_team))
    elif caller.role != "compliance_officer":
        sites = list(caller.sites)
    if q["site_id"]:
        sites = [q["site_id"]]
    words = [w for w in re.split(r"[\W_]+", re.sub("['\\u2019]", "", q["name"] or "")) if w][:6]
    if sites is not None:
        where.append(c.c.home_site_id.in_(sites))
    if q["date_of_birth"]:
        where.append(c.c.date_of_birth == q["date_of_birth"])
    if q["phone"]:
        digits = "".join(ch for ch in q["phone"] if ch.isdigit())
        where.append(func.reverse(c.c.phone_digits).like(digits[::-1] + "%"))
    if q["record_number"]:
        where.append(c.c.record_number == q["record_number"])
    found, rank = select(*(c.c[name] for name in SEARCH_COLUMNS)), literal(0.0)
    named = len(where) - (sites is not None)  # criteria besides the name and the sites
    if words and named:
        # a date of birth, phone, record number or care team finds few clients: their names are scored, by
        # each client's own words (an index by client), rather than every client with such a word
        scores = [_word_score(word, c.c.id) for word in words]
        scored = found.add_columns(sum(scores[1:], scores[0]).label("score")).where(*where).subquery()
        found, rank, where = select(*(scored.c[name] for name in SEARCH_COLUMNS)), scored.c.score, [
            scored.c.score.is_not(None)]
        c = scored
    elif words:
        # the clients with a word like each word of three letters or more (the longest if none is), joined;
        # a shorter word -- a name being typed, "Okafor Sa" -- is scored on those clients alone rather than
        # gathering everyone with a word starting "sa"; then the best page by score, and its rows by
        # primary key (a tie at the page's end goes by id, not by name)
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        driving = [i for i, word in enumerate(words) if len(word) >= 3] or [longest]
        hits = [_word_hits(words[i], sites) for i in driving]
        lead = hits[0].c.client_id
        total = sum((h.c.score for h in hits[1:]), hits[0].c.score)
        total = sum((_word_score(word, lead) for i, word in enumerate(words) if i not in driving), total)
        ranked = select(lead, total.label("score"))
        for h in hits[1:]:
            ranked = ranked.join(h, h.c.client_id == lead)
        ranked = ranked.where(total.is_not(None)).order_by(literal_column("score").desc(), lead).limit(
            q["limit"]).cte("ranked").prefix_with("MATERIALIZED")
        found, rank, where = found.join(ranked, ranked.c.client_id == c.c.id), ranked.c.score, []
    # (JIT compiling a search costs more than the search: 200 ms of a 250 ms one here)
    conn.execute(text(f"SET LOCAL pg_trgm.similarity_threshold = {SIMILARITY}; SET LOCAL jit = off"))
    rows = conn.execute(found.where(*where).order_by(rank.desc(), c.c.family_name, c.c.given_name, c.c.id)
                        .limit(q["limit"]))
    return [plain(r) for r in rows]


def care_team(conn: Connection, client_id) -> list[dict[str, Any]]:
    ct = m.care_team
    rows = conn.execute(
        select(ct.c.clinician_id, ct.c.role, ct.c.started_at)
        .where(ct.c.client_id == client_id, ct.c.ended_at.is_(None)).order_by(ct.c.started_at)
    )
    return [plain(r) for r in rows]


def primary_clinician(conn: Connection, client_id) -> str | None:
    ct = m.care_team
    return conn.execute(
        select(ct.c.clinician_id).where(ct.c.client_id == client_id, ct.c.ended_at.is_(None), ct.c.role == "primary")
    ).scalar()


def consents(conn: Connection, client_id) -> list[dict[str, Any]]:
    rows = conn.execute(select(m.consents).where(m.consents.c.client_id == client_id).order_by(m.consents.c.created_at))
    return [consent_view(plain(r)) for r in rows]


def consent_view(row: dict[str, Any]) -> dict[str, Any]:
    today = date.today().isoformat()
    if row["revoked_at"]:
        row["state"] = "revoked"
    elif row["expires_on"] and row["expires_on"] < today:
        row["state"] = "expired"
    elif row["effective_on"] > today:
        row["state"] = "pending"
    else:
        row["state"] = "active"
    return row


def diagnoses(conn: Connection, client_id) -> list[dict[str, Any]]:
    d = m.diagnoses
    rows = conn.execute(select(d.c.id, d.c.code, d.c.description, d.c.status, d.c.onset_on, d.c.diagnosed_by,
                               d.c.created_at).where(d.c.client_id == client_id).order_by(d.c.created_at))
    return [plain(r) for r in rows]


def note_header(conn: Connection, note_id):
    row = conn.execute(select(m.notes).where(m.notes.c.id == note_id)).first()
    if row is None:
        return None, []
    participants = [str(c) for c in conn.execute(
        select(m.note_participants.c.client_id).where(m.note_participants.c.note_id == note_id)).scalars()]
    return row, participants


def note_index(conn: Connection, client_id, drafts_of: str | None = None) -> list[dict[str, Any]]:
    """The client's notes, newest first: signed ones, and the drafts of
    ``drafts_of`` (a draft is its author's alone until it is signed)."""
    n, p = m.notes, m.note_participants
    rows = conn.execute(
        select(n.c.id, n.c.kind, n.c.session_kind, n.c.appointment_id, n.c.service_date, n.c.author_id, n.c.status,
               n.c.signed_at, n.c.cosign_required, n.c.cosigned_by, n.c.cosigned_at)
        .join(p, and_(p.c.note_id == n.c.id, p.c.client_id == client_id))
        .where(or_(n.c.status == "signed", n.c.author_id == drafts_of))
        .order_by(n.c.service_date.desc(), n.c.created_at.desc())
    )
    return [plain(r) for r in rows]


def visible_sections(conn: Connection, note_id, client_id):
    """The note's sections one client's record shows: the whole session's and
    their own; never another participant's."""
    s = m.note_sections
    return conn.execute(
        select(s.c.id, s.c.client_id, s.c.body_ciphertext, s.c.body_sha256)
        .where(s.c.note_id == note_id, or_(s.c.client_id.is_(None), s.c.client_id == client_id))
        .order_by(s.c.client_id.nulls_first())
    ).all()


def all_sections(conn: Connection, note_id):
    s = m.note_sections
    return conn.execute(select(s.c.id, s.c.client_id, s.c.body_ciphertext, s.c.body_sha256)
                        .where(s.c.note_id == note_id)).all()


def visible_addenda(conn: Connection, note_id, client_id):
    a = m.note_addenda
    return conn.execute(
        select(a.c.id, a.c.client_id, a.c.author_id, a.c.body_ciphertext, a.c.body_sha256, a.c.signed_at)
        .where(a.c.note_id == note_id, or_(a.c.client_id.is_(None), a.c.client_id == client_id))
        .order_by(a.c.signed_at)
    ).all()


def is_supervisee(conn: Connection, author_id: str, on: date) -> bool:
    s = m.supervisions
    return conn.execute(select(func.count()).where(
        s.c.supervisee_id == author_id, s.c.starts_on <= on, or_(s.c.ends_on.is_(None), s.c.ends_on >= on))
    ).scalar() > 0


def supervises(conn: Connection, supervisor_id: str, supervisee_id: str, on: date) -> bool:
    return bool(conn.execute(select(active_supervision(supervisor_id, supervisee_id, on))).scalar())


def project_supervision(conn: Connection, payload: dict[str, Any]) -> None:
    apply_supervision(conn, m.supervisions, payload)


def ping(conn: Connection) -> None:
    conn.execute(select(1))


# --- clients, guardians, care team -------------------------------------------------------
def add_client(conn: Connection, client_id, registered_by: str, data: dict[str, Any]) -> None:
    conn.execute(insert(m.clients).values(id=client_id, registered_by=registered_by, **data))


def change_client(conn: Connection, client_id, data: dict[str, Any]) -> None:
    conn.execute(update(m.clients).where(m.clients.c.id == client_id).values(updated_at=now(), **data))


def add_guardian(conn: Connection, guardian_id, client_id, recorded_by: str, data: dict[str, Any]) -> None:
    conn.execute(insert(m.guardians).values(id=guardian_id, client_id=client_id, recorded_by=recorded_by, **data))


def join_care_team(conn: Connection, client_id, assigned_by: str, data: dict[str, Any]) -> bool:
    """False when the clinician is on the team already, or a second primary was named."""
    try:
        with conn.begin_nested():
            conn.execute(insert(m.care_team).values(id=new_id(), client_id=client_id, assigned_by=assigned_by,
                                                    **data))
    except IntegrityError:
        return False
    return True


def leave_care_team(conn: Connection, client_id, clinician_id: str) -> bool:
    """False when the clinician is not on the team."""
    ct = m.care_team
    return bool(conn.execute(update(ct).where(ct.c.client_id == client_id, ct.c.clinician_id == clinician_id,
                                              ct.c.ended_at.is_(None)).values(ended_at=now())).rowcount)


# --- consents ----------------------------------------------------------------------------
def add_consent(conn: Connection, consent_id, client_id, recorded_by: str, data: dict[str, Any]) -> None:
    conn.execute(insert(m.consents).values(id=consent_id, client_id=client_id, recorded_by=recorded_by, **data))


def consent(conn: Connection, consent_id, client_id=None) -> dict[str, Any] | None:
    """A consent with its state (of ``client_id``, when given)."""
    query = select(m.consents).where(m.consents.c.id == consent_id)
    if client_id is not None:
        query = query.where(m.consents.c.client_id == client_id)
    row = conn.execute(query).first()
    return None if row is None else consent_view(plain(row))


def revoke_consent(conn: Connection, consent_id, revoked_by: str, reason: str) -> bool:
    """False when it was revoked already."""
    c = m.consents
    return bool(conn.execute(update(c).where(c.c.id == consent_id, c.c.revoked_at.is_(None)).values(
        revoked_at=now(), revoked_by=revoked_by, revocation_reason=reason)).rowcount)


# --- diagnoses and treatment plans ----------------------------------------------------------
def add_diagnosis(conn: Connection, diagnosis_id, client_id, diagnosed_by: str, values: dict[str, Any]) -> None:
    conn.execute(insert(m.diagnoses).values(id=diagnosis_id, client_id=client_id, diagnosed_by=diagnosed_by,
                                            **values))


def replace_plan(conn: Connection, plan_id, client_id, author_id: str, values: dict[str, Any]) -> None:
    """The new active plan; the one it replaces is kept as ``replaced``."""
    pl = m.treatment_plans
    conn.execute(update(pl).where(pl.c.client_id == client_id, pl.c.status == "active").values(status="replaced"))
    conn.execute(insert(pl).values(id=plan_id, client_id=client_id, author_id=author_id, status="active", **values))


def plans(conn: Connection, client_id) -> list:
    pl = m.treatment_plans
    return conn.execute(select(pl).where(pl.c.client_id == client_id).order_by(pl.c.created_at)).all()


# --- notes -------------------------------------------------------------------------------------
def add_note(conn: Connection, note_id, author_id: str, values: dict[str, Any], client_ids: list) -> None:
    conn.execute(insert(m.notes).values(id=note_id, author_id=author_id, status="draft", **values))
    conn.execute(insert(m.note_participants), [{"note_id": note_id, "client_id": c} for c in client_ids])


def add_sections(conn: Connection, note_id, sections: list[tuple[Any, str]]) -> None:
    """(client id or None for the whole session, sealed body) per section."""
    conn.execute(insert(m.note_sections), [
        {"id": new_id(), "note_id": note_id, "client_id": client_id, "body_ciphertext": sealed}
        for client_id, sealed in sections])


def replace_sections(conn: Connection, note_id, sections: list[tuple[Any, str]]) -> None:
    conn.execute(delete(m.note_sections).where(m.note_sections.c.note_id == note_id))
    add_sections(conn, note_id, sections)
    conn.execute(update(m.notes).where(m.notes.c.id == note_id).values(updated_at=now()))


def note_row(conn: Connection, note_id, lock: bool = False):
    query = select(m.notes).where(m.notes.c.id == note_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def seal_section_hash(conn: Connection, section_id, digest: str) -> None:
    conn.execute(update(m.note_sections).where(m.note_sections.c.id == section_id).values(body_sha256=digest))


def change_note(conn: Connection, note_id, **values) -> None:
    conn.execute(update(m.notes).where(m.notes.c.id == note_id).values(**values))


def add_addendum(conn: Connection, addendum_id, note_id, values: dict[str, Any]) -> None:
    conn.execute(insert(m.note_addenda).values(id=addendum_id, note_id=note_id, **values))


# --- psychotherapy notes --------------------------------------------------------------------------
def add_psychotherapy_note(conn: Connection, note_id, values: dict[str, Any]) -> None:
    conn.execute(insert(m.psychotherapy_notes).values(id=note_id, **values))


def psychotherapy_note(conn: Connection, note_id, lock: bool = False):
    query = select(m.psychotherapy_notes).where(m.psychotherapy_notes.c.id == note_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def psychotherapy_notes_of(conn: Connection, client_id, author_id: str) -> list:
    pn = m.psychotherapy_notes
    return conn.execute(select(pn).where(pn.c.client_id == client_id, pn.c.author_id == author_id)
                        .order_by(pn.c.service_date, pn.c.created_at)).all()


def change_psychotherapy_note(conn: Connection, note_id, **values) -> None:
    conn.execute(update(m.psychotherapy_notes).where(m.psychotherapy_notes.c.id == note_id).values(**values))


# --- break the glass ---------------------------------------------------------------------------------
def add_grant(conn: Connection, grant_id, values: dict[str, Any]) -> None:
    conn.execute(insert(m.break_glass_grants).values(id=grant_id, **values))


def grants_opened_since(conn: Connection, user_id: str, hours: float) -> int:
    """How many break-the-glass grants ``user_id`` opened in the last ``hours``;
    their next grant waits until this transaction ends, so two at once cannot both
    count the same."""
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(literal("break-glass:") + user_id, 0))))
    bg = m.break_glass_grants
    return conn.execute(select(func.count()).select_from(bg).where(
        bg.c.user_id == user_id, bg.c.opened_at > func.now() - timedelta(hours=hours))).scalar_one()


def grants_by_review(conn: Connection, status: str) -> list[dict[str, Any]]:
    bg = m.break_glass_grants
    return [plain(r) for r in conn.execute(select(bg).where(bg.c.review_status == status)
                                           .order_by(bg.c.opened_at))]


def grant(conn: Connection, grant_id, lock: bool = False):
    query = select(m.break_glass_grants).where(m.break_glass_grants.c.id == grant_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def review_grant(conn: Connection, grant_id, **values) -> None:
    bg = m.break_glass_grants
    conn.execute(update(bg).where(bg.c.id == grant_id).values(reviewed_at=now(), **values))


def notify(conn: Connection, recipient_id: str, kind: str, client_id, subject_id: str, detail: dict) -> None:
    conn.execute(insert(m.notifications).values(id=new_id(), recipient_id=recipient_id, kind=kind,
                                                client_id=client_id, subject_id=subject_id, detail=detail))


def notifications_of(conn: Connection, recipient_id: str, limit: int = 200) -> list[dict[str, Any]]:
    n = m.notifications
    return [plain(r) for r in conn.execute(select(n).where(n.c.recipient_id == recipient_id)
                                           .order_by(n.c.created_at.desc()).limit(limit))]


# --- logins linked by invitation ---------------------------------------------------------
def add_invitation(conn: Connection, invitation_id, client_id, guardian_id, code_sha256: str, created_by: str,
                   expires_at: datetime) -> None:
    """A new code; any other open one for the same login ends now (one live code per person)."""
    li = m.login_invitations
    conn.execute(update(li).where(li.c.client_id == client_id, li.c.guardian_id.is_not_distinct_from(guardian_id),
                                  li.c.redeemed_at.is_(None), li.c.expires_at > now()).values(expires_at=now()))
    conn.execute(insert(m.login_invitations).values(
        id=invitation_id, client_id=client_id, guardian_id=guardian_id, code_sha256=code_sha256,
        created_by=created_by, expires_at=expires_at))


def open_invitation(conn: Connection, code_sha256: str):
    """The invitation with this code, unused and unexpired, locked until the link is made."""
    li = m.login_invitations
    return conn.execute(select(li).where(li.c.code_sha256 == code_sha256, li.c.redeemed_at.is_(None),
                                         li.c.expires_at > now()).with_for_update()).first()


def redeem_invitation(conn: Connection, invitation_id, user_id: str) -> None:
    li = m.login_invitations
    conn.execute(update(li).where(li.c.id == invitation_id).values(redeemed_by=user_id, redeemed_at=now()))


def link_client(conn: Connection, client_id, user_id: str) -> bool:
    """False when the record has a login already, or the login is another client's."""
    c = m.clients
    try:
        with conn.begin_nested():
            return bool(conn.execute(update(c).where(c.c.id == client_id, c.c.user_id.is_(None))
                                     .values(user_id=user_id, updated_at=now())).rowcount)
    except IntegrityError:
        return False


def link_guardian(conn: Connection, guardian_id, user_id: str) -> bool:
    """False when the guardian has a login already, or this login is already a
    guardian of the same client (one set of rights per person and client)."""
    g, other = m.guardians, m.guardians.alias("other")
    already = exists().where(other.c.client_id == g.c.client_id, other.c.user_id == user_id)
    return bool(conn.execute(update(g).where(g.c.id == guardian_id, g.c.user_id.is_(None), ~already)
                             .values(user_id=user_id)).rowcount)


def client_login(conn: Connection, client_id) -> tuple[str, str | None]:
    """The client's home site and own login, if linked."""
    c = m.clients
    return tuple(conn.execute(select(c.c.home_site_id, c.c.user_id).where(c.c.id == client_id)).one())


def acting_relation(conn: Connection, caller: Caller, other: str) -> str | None:
    """What recorded relation lets ``caller`` act for ``other``, if any: ``guardian``
    (of the client whose record id or own login ``other`` is), or ``supervisor`` /
    ``supervisee`` (an active supervision between the two clinicians)."""
    if caller.role == "client":
        c, g = m.clients, m.guardians
        ward = or_(cast(c.c.id, String) == other, c.c.user_id == other)
        found = conn.execute(select(g.c.id).join(c, c.c.id == g.c.client_id).where(
            ward, g.c.user_id == caller.user_id, or_(g.c.valid_until.is_(None), g.c.valid_until >= date.today()))
            .limit(1)).first()
        return "guardian" if found else None
    if caller.role in ("clinician", "supervisor"):
        today = date.today()
        if conn.execute(select(active_supervision(caller.user_id, literal(other), today))).scalar():
            return "supervisor"
        if conn.execute(select(active_supervision(other, literal(caller.user_id), today))).scalar():
            return "supervisee"
    return None


def guardian(conn: Connection, client_id, guardian_id):
    g = m.guardians
    return conn.execute(select(g).where(g.c.id == guardian_id, g.c.client_id == client_id)).first()


def approve_guardian(conn: Connection, guardian_id, approved_by: str) -> None:
    """The requested clinical rights become the guardian's."""
    g = m.guardians
    conn.execute(update(g).where(g.c.id == guardian_id).values(
        may_see=func.array_cat(g.c.may_see, g.c.requested), requested=literal([], g.c.requested.type),
        approved_by=approved_by, approved_at=now()))
