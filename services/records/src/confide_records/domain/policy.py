"""Who may do what with which part of a client's record (DESIGN.md, Security).

A pure function of the caller and the facts relating them to the client, so the
whole matrix can be tested without a database; the service gathers the facts
(:class:`Relation`) in the same transaction that records the access.

Kinds of record: ``demographics`` (with emergency contacts and insurance),
``care_team``, ``consents``, ``diagnoses``, ``treatment_plans``, ``notes``
(intake and progress notes with their addenda) and ``psychotherapy_notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from confide_access import Caller, Purpose
from confide_contracts.rpc.records import Kind

CLINICAL = frozenset({Kind.DIAGNOSES, Kind.TREATMENT_PLANS, Kind.NOTES})
WHOLE_RECORD = frozenset(Kind) - {Kind.PSYCHOTHERAPY_NOTES}

# Reads. Clinical roles reach a client through the care team (or supervision of
# someone on it); other staff through site scope, and only to what their work
# needs (minimum necessary).
STAFF_READS = {
    "front_desk": frozenset({Kind.DEMOGRAPHICS, Kind.CARE_TEAM, Kind.CONSENTS}),
    "biller": frozenset({Kind.DEMOGRAPHICS, Kind.DIAGNOSES}),  # codes for claims and superbills
    "admin": frozenset({Kind.DEMOGRAPHICS, Kind.CARE_TEAM}),
    "compliance_officer": frozenset({Kind.DEMOGRAPHICS, Kind.CARE_TEAM, Kind.CONSENTS}),
}
STAFF_WRITES = {
    "front_desk": frozenset({Kind.DEMOGRAPHICS, Kind.CARE_TEAM, Kind.CONSENTS}),
    "admin": frozenset({Kind.DEMOGRAPHICS, Kind.CARE_TEAM}),
}
CLINICIANS = ("clinician", "supervisor")


@dataclass(frozen=True)
class Relation:
    """What ties the caller to the client, as the records database knows it now."""

    client_id: str
    home_site: str
    on_care_team: bool = False
    supervises_care_team: bool = False  # an active supervisee of the caller is on it
    is_client: bool = False  # the caller is the client
    guardian_may_see: frozenset[str] | None = None  # the caller is a guardian with these rights
    break_glass_reason: str | None = None  # the caller holds an open break-the-glass grant


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    break_glass: bool = False
    basis: str = ""  # what allowed it: care_team, supervision, break_glass, self, guardian, site_staff, author

    @property
    def recorded(self) -> str:
        """The reason as the access event carries it: ``basis: why``, so the audit
        trail can tell care-team access from everything else."""
        return f"{self.basis}: {self.reason}" if self.basis else self.reason

    def effective(self, caller: Caller, relation: Relation) -> Caller:
        """The caller as the access event records them: under break-the-glass the
        grant's reason and the emergency purpose are on every access."""
        if self.break_glass:
            return replace(caller, break_glass_reason=relation.break_glass_reason, purpose=Purpose.EMERGENCY)
        return caller


def allow(reason: str, basis: str = "") -> Decision:
    return Decision(True, reason, basis=basis)


def refuse(reason: str) -> Decision:
    """A refusal: recorded with its reason; the caller of a client's record is told
    only that there is nothing they may see (``access.through_policy``)."""
    return Decision(False, reason)


def may_read(caller: Caller, kind: Kind, relation: Relation, author_id: str | None = None) -> Decision:
    kind = Kind(kind)
    if kind is Kind.PSYCHOTHERAPY_NOTES:
        # 45 CFR 164.501/164.508(a)(2): for their author only; break-the-glass does not open them
        if caller.role in CLINICIANS and author_id is not None and caller.user_id == author_id:
            return allow("author of the psychotherapy notes", "author")
        return refuse("psychotherapy notes are for their author only")
    if caller.role == "client":
        if relation.is_client:
            return allow("the client's own record", "self")
        if relation.guardian_may_see is not None:
            if kind in relation.guardian_may_see:
                return allow(f"guardian with recorded right to see {kind}", "guardian")
            return refuse(f"the guardian's recorded rights do not include {kind}")
        return refuse("not this client's record")
    if caller.role in CLINICIANS:
        if relation.on_care_team:
            return allow("on the client's care team", "care_team")
        if caller.role == "supervisor" and relation.supervises_care_team:
            return allow("supervises a clinician on the client's care team", "supervision")
        if relation.break_glass_reason:
            return Decision(True, "break-the-glass grant", break_glass=True, basis="break_glass")
        return refuse("not on the client's care team")
    allowed = STAFF_READS.get(caller.role)
    if allowed is None:
        return refuse(f"role {caller.role} has no access to client records")
    if kind not in allowed:
        return refuse(f"role {caller.role} may not see {kind} (minimum necessary)")
    if caller.role == "compliance_officer":
        return allow("compliance officer (network-wide)", "compliance")
    if relation.home_site not in caller.sites:
        return refuse(f"client's home site {relation.home_site} is outside the caller's sites")
    return allow(f"{caller.role} at the client's site", "site_staff")


def may_write(caller: Caller, kind: Kind, relation: Relation) -> Decision:
    """Create or change ``kind`` (a break-the-glass grant is for reading only)."""
    kind = Kind(kind)
    if caller.role in CLINICIANS:
        if relation.on_care_team:
            return allow("on the client's care team", "care_team")
        return refuse("not on the client's care team")
    allowed = STAFF_WRITES.get(caller.role)
    if allowed is None or kind not in allowed:
        return refuse(f"role {caller.role} may not change {kind}")
    if relation.home_site not in caller.sites:
        return refuse(f"client's home site {relation.home_site} is outside the caller's sites")
    return allow(f"{caller.role} at the client's site", "site_staff")


def may_register(caller: Caller, site_id: str) -> Decision:
    if caller.role not in ("front_desk", "admin", "clinician", "supervisor"):
        return refuse(f"role {caller.role} may not register clients")
    if site_id not in caller.sites:
        return refuse(f"site {site_id} is outside the caller's sites")
    return allow(f"{caller.role} at the site")


SEARCHERS = ("front_desk", "biller", "admin", "compliance_officer", *CLINICIANS)


def may_search(caller: Caller, site_id: str | None) -> Decision:
    """Finding clients: site staff within their sites, compliance officers
    network-wide, clinicians among the clients of their care teams (and of their
    supervisees') only -- the store narrows the search to that."""
    if caller.role not in SEARCHERS:
        return refuse(f"role {caller.role} may not search for clients")
    if site_id is not None and caller.role != "compliance_officer" and site_id not in caller.sites:
        return refuse(f"site {site_id} is outside the caller's sites")
    return allow(f"{caller.role} searching clients")


def guardian_rights(caller: Caller, may_see) -> tuple[list[str], list[str]]:
    """(what a guardian may see now, what waits for a clinician): a clinician
    records clinical rights with their own judgement; anyone else's request for
    them waits for the approval of a clinician on the care team."""
    kinds = sorted({str(Kind(k)) for k in may_see})
    if caller.role in CLINICIANS:
        return kinds, []
    return [k for k in kinds if k not in CLINICAL], [k for k in kinds if k in CLINICAL]


def may_approve_guardian(caller: Caller, relation: Relation) -> Decision:
    if caller.role in CLINICIANS and relation.on_care_team:
        return allow("on the client's care team", "care_team")
    return refuse("a guardian's clinical rights are approved by a clinician on the client's care team")


def may_redeem(caller: Caller) -> Decision:
    """A login is linked by the person it belongs to, signed in as themselves."""
    if caller.role != "client":
        return refuse(f"role {caller.role} may not link a login to a record: the person redeems the "
                      "invitation themselves, signed in with their own client login")
    return allow("the person redeems their own invitation", "self")


def may_act_for(caller: Caller, other: str, basis: str | None) -> Decision:
    """Acting on behalf of someone (what the trail records as ``on_behalf_of``)
    rests on a recorded relation (``basis``), never on the caller's word."""
    if basis is None:
        return refuse(f"no recorded relation lets this {caller.role} act on behalf of {other}: a guardian acts "
                      "for their client, a supervisor for a supervisee and a supervisee for their supervisor")
    return allow(f"acts on behalf of {other} as {basis}", basis)


def may_review_break_glass(caller: Caller) -> Decision:
    """The review queue of break-the-glass grants (who read what in an emergency):
    compliance officers', who answer for it; an admin administers, not reviews."""
    if caller.role != "compliance_officer":
        return refuse(f"role {caller.role} may not review break-the-glass access")
    return allow("reviews break-the-glass access")


BREAK_GLASS_PER_DAY = 3  # grants one clinician may open in 24 hours; more is for a colleague or compliance


def may_break_glass(caller: Caller, relation: Relation, opened_today: int) -> Decision:
    """Emergency access: a clinician, for a client of one of their own sites, a
    few times a day (``opened_today``: their grants in the last 24 hours)."""
    if caller.role not in CLINICIANS:
        return refuse(f"role {caller.role} may not break the glass")
    if relation.home_site not in caller.sites:
        return refuse(f"client's home site {relation.home_site} is outside the caller's sites")
    if opened_today >= BREAK_GLASS_PER_DAY:
        return refuse(f"{opened_today} break-the-glass grants in the last 24 hours; ask a clinician on the "
                      "client's care team, or compliance")
    return allow("break-the-glass", "break_glass")


def may_export(caller: Caller, relation: Relation) -> Decision:
    """A copy of the record: the client's own, or a clinician's (what each may read)."""
    if caller.role not in (*CLINICIANS, "client"):
        return refuse(f"role {caller.role} may not export client records")
    return may_read(caller, Kind.DEMOGRAPHICS, relation)


def may_disclose(caller: Caller, relation: Relation) -> Decision:
    """Releases under a consent are a clinician's, of a client they may read notes of."""
    if caller.role not in CLINICIANS:
        return refuse(f"role {caller.role} may not disclose client records")
    return may_read(caller, Kind.NOTES, relation)


def may_read_psychotherapy_notes(caller: Caller, relation: Relation) -> Decision:
    """Their own psychotherapy notes, for a clinician on the care team."""
    if caller.role in CLINICIANS and relation.on_care_team:
        return may_read(caller, Kind.PSYCHOTHERAPY_NOTES, relation, caller.user_id)
    return refuse("psychotherapy notes are for their author only")


def may_cosign(caller: Caller) -> Decision:
    """Who may try: a supervisor (whether of this author on that day is a fact checked with the note)."""
    if caller.role != "supervisor":
        return refuse("only a supervisor co-signs")
    return allow("supervisor of the note's author", "supervision")


def author_only(caller: Caller, relation: Relation, author_id: str, what: str) -> Decision:
    """A draft is changed and signed by its author, who must still be able to write notes."""
    decision = may_write(caller, Kind.NOTES, relation)
    if decision.allowed and caller.user_id != author_id:
        return refuse(f"only the note's author may {what} it")
    return decision


def may_read_note(caller: Caller, relation: Relation, status: str, author_id: str) -> Decision:
    """A draft is for its author until it is signed."""
    decision = may_read(caller, Kind.NOTES, relation)
    if decision.allowed and status == "draft" and caller.user_id != author_id:
        return refuse("a draft is for its author until it is signed")
    return decision


# --- work queues ---------------------------------------------------------------------------
HEADERS_ONLY = frozenset({"admin", "compliance_officer"})  # who follows up on notes, never reads them


def may_see_unsigned_notes(caller: Caller, author_id: str | None) -> Decision:
    """Drafts left unsigned: a clinician their own; a supervisor also their
    supervisees'; admins (their sites) and compliance officers follow up on
    them by author and date, without the clients."""
    if caller.role in HEADERS_ONLY:
        return allow("follows up on documentation")
    if caller.role == "clinician" and author_id not in (None, caller.user_id):
        return refuse("clinicians see their own unsigned notes")
    if caller.role in CLINICIANS:
        return allow("own notes" if author_id in (None, caller.user_id) else "supervises the author")
    return refuse(f"role {caller.role} may not see unsigned notes")


def may_see_cosignature_queue(caller: Caller) -> Decision:
    if caller.role not in CLINICIANS:
        return refuse(f"role {caller.role} does not co-sign notes")
    return allow("co-signs their supervisees' notes")
