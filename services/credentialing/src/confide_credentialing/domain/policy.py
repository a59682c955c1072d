"""Who may do what in credentialing (DESIGN.md, Security): a pure function of
the caller.

Credentialing records -- clinicians, licences, verifications, supervisions --
are changed by credentialing officers and admins only: a licence decides who
may see clients, so the people who check primary sources are the ones who
record them. The licensure answer (may this clinician practise there?) is for
every member of staff, and for the platform's own system callers (scheduling's
reassessment); clients and guardians do not query it.
"""

from __future__ import annotations

from confide_access import Caller, Decision, allow, refuse

OFFICERS = frozenset({"credentialing_officer", "admin"})
READERS = frozenset({"clinician", "supervisor", "front_desk", "biller", "credentialing_officer",
                     "compliance_officer", "admin", "system"})


def may_change_credentials(who: Caller) -> Decision:
    if who.role not in OFFICERS:
        return refuse(f"role {who.role} may not change credentialing records")
    return allow("credentialing officer")


def may_query_licensure(who: Caller) -> Decision:
    if who.role not in READERS:
        return refuse(f"role {who.role} may not query licensure")
    return allow("staff")
