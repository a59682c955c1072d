"""What a retried POST (same Idempotency-Key, same request) is answered with.

The gateway keeps no answer -- a note, a disclosed record -- only the status and
the id of what was made. A retry is answered by reading that thing again, as the
caller, through the service that owns it: the service decides afresh (a caller
who has lost access since is refused) and records the read in the trail. Where
no read shows exactly what was made, the retry is answered with its id alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReadBack:
    rpc: str  # on the same service as the creating operation
    args: Callable[[dict, dict, str], tuple]  # (path variables, request body, made id) -> arguments
    pick: bool = False  # the read answers a list: the item with the made id is the answer


def _client(variables: dict, body: dict) -> Any:
    return variables.get("client_id") or body.get("client_id") or (body.get("client_ids") or [None])[0]


READ_BACK: dict[str, ReadBack] = {
    "records.register_client": ReadBack("get_client", lambda v, b, made: (made,)),
    "records.add_guardian": ReadBack("get_client", lambda v, b, made: (v["client_id"],)),
    "records.assign_care_team": ReadBack("get_care_team", lambda v, b, made: (v["client_id"],)),
    "records.record_consent": ReadBack("list_consents", lambda v, b, made: (v["client_id"],), pick=True),
    "records.add_diagnosis": ReadBack("list_diagnoses", lambda v, b, made: (v["client_id"],), pick=True),
    "records.create_treatment_plan": ReadBack("list_treatment_plans", lambda v, b, made: (v["client_id"],),
                                              pick=True),
    "records.create_note": ReadBack("get_note", lambda v, b, made: (made, _client(v, b))),
    "records.write_psychotherapy_note": ReadBack("get_psychotherapy_notes", lambda v, b, made: (_client(v, b),),
                                                 pick=True),
    # a disclosure is not repeated: the caller's access to the client is asked again, the id answered
    "records.disclose": ReadBack("get_client", lambda v, b, made: (v["client_id"],)),
    "scheduling.book": ReadBack("get_appointment", lambda v, b, made: (made,)),
}
ANSWERED_BY_ID = {"records.disclose"}


def made_id(answer: Any) -> str | None:
    """The id of what a creating call made, from its answer."""
    if isinstance(answer, dict) and answer.get("id") is not None:
        return str(answer["id"])[:200]
    return None


def replayed(operation_id: str, services, caller: dict, variables: dict, body: Any, resource_id: str | None):
    """The answer to a retry: read again as ``caller`` (``services``: the signing
    proxy), or ``{"id": ...}`` where no read fits."""
    read = READ_BACK.get(operation_id)
    if read is None or (resource_id is None and (read.pick or operation_id in ANSWERED_BY_ID)):
        return {"id": resource_id}
    service = operation_id.split(".", 1)[0]
    answer = getattr(getattr(services, service), read.rpc)(caller, *read.args(variables, body or {}, resource_id))
    if operation_id in ANSWERED_BY_ID:
        return {"id": resource_id}
    if read.pick:
        return next((item for item in answer if str(item.get("id")) == resource_id), {"id": resource_id})
    return answer
