"""Finding a client: by name (typos and accents forgiven, word starts while
typing), date of birth, phone or record number, within what the caller may
search. Demographics only. Every search is in the trail: one ``search`` entry
per client it returned, all under one search id (and one entry when it found
no one), committed before the results are returned."""

from __future__ import annotations

from typing import Any

from confide_access import Action, Caller, record_access
from confide_messaging import UnitOfWork

from confide_records import store

CRITERIA = ("name", "date_of_birth", "phone", "record_number", "site_id")


def find(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    found = store.search_clients(uow.session.connection(), who, q)
    search_id = str(store.new_id())
    how = f"search by {', '.join(k for k in CRITERIA if q[k] is not None)}: {len(found)} found"
    with uow.batched():
        for client in found or [None]:
            record_access(uow, who, action=Action.SEARCH, resource_type="Client", resource_id=search_id,
                          client_id=client and str(client["id"]), site_id=client and client["home_site_id"],
                          reason=how)
    return {"search_id": search_id, "clients": found}
