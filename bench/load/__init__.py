"""A clinic day through the gateway (``make load``, and the load ``make faults`` runs)."""

# The load's operations (as the locustfile names them) that read or change client data -- a chart, notes, a
# search, a day sheet, a booking, a statement, invoices, the trail itself: each answer served must be in the
# audit trail, which is what `make faults` holds it to.
ACCESSES = frozenset({"GET /clients/{id}", "GET /clients/{id}/notes", "GET /clients/{id}/notes/{note}",
                      "POST /notes/{note}/addenda", "GET /clients?name", "GET /day-sheet", "GET /day-sheet (own)",
                      "POST /appointments", "GET /clients/{id}/statement", "GET /invoices",
                      "GET /audit/entries?client_id", "GET /audit/reports/denied"})
# lists that show a client only when they list something (the field of the answer that holds them)
LISTS = {"GET /day-sheet": "appointments", "GET /day-sheet (own)": "appointments", "GET /invoices": "items"}


def shown(op: str, answer: dict) -> tuple[int, int]:
    """How many items a list answered with, and how many distinct clients they show: each of those
    clients must have an access of the request in the trail."""
    items = answer.get(LISTS[op]) or []
    if LISTS[op] == "appointments":
        clients = {client["id"] for item in items for client in item.get("clients") or []}
    else:
        clients = {item.get("client_id") for item in items}
    return len(items), len(clients)
