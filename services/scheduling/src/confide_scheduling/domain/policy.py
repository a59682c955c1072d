"""Who may do what in scheduling (DESIGN.md, Security): pure functions of the
caller and the facts.

- Front desk and admins book, move, cancel and keep waitlists for the sites
  they work at; clinicians (and supervisors) for their own sessions at their
  sites. Nobody else books.
- Sites, rooms and holidays are an admin's of that site.
- Leave: staff record it for a named site of theirs; a clinician records their
  own, at every site.
- Reading appointments names clients, so it is site-scoped for front desk,
  admins and billers, and a clinician sees their own sessions only.
"""

from __future__ import annotations

from confide_access import Caller, Decision, allow, refuse

DESK = frozenset({"front_desk", "admin"})
CLINICIANS = frozenset({"clinician", "supervisor"})
SITE_READERS = frozenset({"front_desk", "admin", "biller"})


def may_book(who: Caller, site_id: str, clinician_id: str | None, what: str) -> Decision:
    if who.role in DESK:
        if site_id not in who.sites:
            return refuse(f"site {site_id} is outside the caller's sites")
        return allow("site staff")
    if who.role in CLINICIANS:
        if clinician_id != who.user_id:
            return refuse("clinicians book their own sessions only")
        if site_id not in who.sites:
            return refuse(f"site {site_id} is outside the caller's sites")
        return allow("own session")
    return refuse(f"role {who.role} may not {what}")


def may_administer(who: Caller, site_id: str | None, what: str) -> Decision:
    if who.role != "admin" or (site_id is not None and site_id not in who.sites):
        return refuse(f"only an admin of the site may {what}")
    return allow("site admin")


def may_record_leave(who: Caller, clinician_id: str | None, site_id: str | None) -> Decision:
    """Leave of ``clinician_id`` (``None``: a site's holiday) at ``site_id`` (``None``: every site)."""
    if clinician_id is None:
        return may_administer(who, site_id, "close a site")
    if who.role in DESK and site_id is not None:
        return may_book(who, site_id, clinician_id, "record leave")
    if who.user_id != clinician_id:
        return refuse("clinicians record their own leave; staff name the site")
    return allow("own leave")


def may_read_appointment(who: Caller, site_id: str, clinician_ids: tuple[str | None, ...]) -> Decision:
    if who.role in SITE_READERS:
        return allow("site staff") if site_id in who.sites else refuse(
            f"site {site_id} is outside the caller's sites")
    if who.role in CLINICIANS:
        return allow("own session") if who.user_id in clinician_ids else refuse(
            "not the clinician of this appointment")
    return refuse(f"role {who.role} may not read appointments")


def may_list_appointments(who: Caller, clinician_id: str | None) -> Decision:
    """Which lists: a clinician their own; site staff any (filtered to their sites)."""
    if who.role in CLINICIANS and clinician_id != who.user_id:
        return refuse("clinicians list their own appointments")
    if who.role not in CLINICIANS | SITE_READERS:
        return refuse(f"role {who.role} may not read appointments")
    return allow()


def sees_site(who: Caller, site_id: str) -> bool:
    """A site-scoped reader's list keeps their sites' appointments only."""
    return who.role not in SITE_READERS or site_id in who.sites


def may_read_day_sheet(who: Caller, site_id: str | None, clinician_id: str | None,
                       supervisees: frozenset[str]) -> Decision:
    """Site staff read their sites' days; a clinician their own; a supervisor
    their own and their supervisees' (minimum necessary: not a colleague's)."""
    if who.role in SITE_READERS:
        if site_id is not None and site_id not in who.sites:
            return refuse(f"site {site_id} is outside the caller's sites")
        return allow("site staff")
    if who.role in CLINICIANS:
        if clinician_id in (None, who.user_id):
            return allow("own sessions")
        if who.role == "supervisor" and clinician_id in supervisees:
            return allow("supervises the clinician")
        return refuse("a clinician's day is theirs and their supervisor's")
    return refuse(f"role {who.role} may not read appointments")


# --- the client portal -------------------------------------------------------------------
def may_use_portal(who: Caller, record: str | None) -> Decision:
    """A client, for the record their own login is linked to (by the clinic's invitation)."""
    if who.role != "client":
        return refuse(f"role {who.role} has no client portal")
    if record is None:
        return refuse("no client record is linked to this login: redeem the clinic's invitation first")
    return allow("own record")


ONE_CLIENT = frozenset({"intake", "individual", "child"})


def may_cancel_own(kind: str) -> Decision:
    """A client cancels a session of their own; a couple's, family's or group's is the clinic's to cancel."""
    return allow("own session") if kind in ONE_CLIENT else refuse(
        f"a {kind} session is shared: ask the clinic to cancel it")


# --- lists -------------------------------------------------------------------------------
SITE_SCOPED = DESK | CLINICIANS | {"biller"}
NETWORK_WIDE = frozenset({"compliance_officer", "credentialing_officer"})


def may_list_sites(who: Caller) -> Decision:
    """Staff see their sites (officers every site); a site names no client."""
    if who.role in SITE_SCOPED | NETWORK_WIDE:
        return allow("staff")
    return refuse(f"role {who.role} may not list sites")


def site_filter(who: Caller) -> frozenset[str] | None:
    """The sites a list keeps for this caller; None: every site."""
    return None if who.role in NETWORK_WIDE else who.sites


def may_read_site(who: Caller, site_id: str) -> Decision:
    if who.role in NETWORK_WIDE:
        return allow("officer")
    if who.role in SITE_SCOPED:
        return allow("site staff") if site_id in who.sites else refuse(
            f"site {site_id} is outside the caller's sites")
    return refuse(f"role {who.role} may not read sites")


def may_list_schedules(who: Caller, clinician_id: str | None, what: str) -> Decision:
    """Availability, leave, the waitlist: the desk their sites'; a clinician their own."""
    if who.role in DESK:
        return allow("site staff")
    if who.role in CLINICIANS:
        return allow("own") if clinician_id in (None, who.user_id) else refuse(f"clinicians list their own {what}")
    return refuse(f"role {who.role} may not list {what}")


def schedule_scope(who: Caller, clinician_id: str | None) -> tuple[frozenset[str], str | None]:
    """(sites, clinician) a schedule list keeps, once allowed: the caller's sites, and a clinician's own."""
    if who.role in CLINICIANS:
        return who.sites, who.user_id
    return who.sites, clinician_id
