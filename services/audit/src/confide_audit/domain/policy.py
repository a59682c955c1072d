"""Who may read the audit trail (DESIGN.md, Audit): a pure function of the caller.

The trail names every client and every clinician's work, so its queries,
reports, exports and legal holds are for compliance officers. Admins administer:
they may check the trail's integrity (verify, checkpoints, proofs: hashes, no
entry), not read it. A client sees one thing: who accessed their own record,
and why. A monitor -- anyone outside the clinic following the trail's
consistency -- sees checkpoints, consistency proofs and hash tiles: hashes,
never an entry.
"""

from __future__ import annotations

from confide_access import Caller, Decision, allow, refuse

OFFICERS = frozenset({"compliance_officer"})
TRANSPARENCY = frozenset({"checkpoints", "consistency", "tiles"})  # hashes only: for monitors
INTEGRITY = TRANSPARENCY | {"verify", "checkpoint", "prove"}  # what an admin may do too


def may_use_trail(who: Caller, what: str) -> Decision:
    if who.role in OFFICERS or (who.role == "admin" and what in INTEGRITY) or \
            (who.role == "monitor" and what in TRANSPARENCY):
        return allow(f"{who.role} may {what} the audit trail")
    return refuse(f"role {who.role} may not {what} the audit trail")


def may_see_access_report(who: Caller) -> Decision:
    if who.role != "client":
        return refuse("the access report is for the client themself")
    return allow("the client's own access report")
