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
