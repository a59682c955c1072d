"""The records service's work queues (``worklists``) -- notes left unsigned past
the clinic's time (``NOTES_SIGN_WITHIN_HOURS``), notes waiting for a
supervisor's co-signature -- and the caller's notifications.
:class:`~confide_records.service.RecordsService` is made of this and its own
entrypoints."""

from __future__ import annotations

from typing import Any

from confide_access import Action, Caller, enforce, load, rpc
from confide_contracts.errors import EXPECTED
from confide_contracts.rpc.records import NoteQueueSchema
from nameko import config

from confide_records import break_glass, worklists
from confide_records.domain import policy as p


class WorkQueues:
    """Entrypoints of :class:`~confide_records.service.RecordsService` (its ``uow``)."""

    @rpc(expected_exceptions=EXPECTED)
    def unsigned_notes(self, caller: Caller, query: dict) -> dict[str, Any]:
        """Drafts older than ``older_than_hours`` (the clinic's time by default), oldest first."""
        q = load(NoteQueueSchema(), query)
        enforce(self.uow, caller, p.may_see_unsigned_notes(caller, q["author_id"]), action=Action.READ,
                resource_type="Note", resource_id="unsigned notes")
        hours = q["older_than_hours"]
        with self.uow() as uow:
            return worklists.unsigned(uow, caller, q, config.get("NOTES_SIGN_WITHIN_HOURS", 72) if hours is None
                                      else hours)

    @rpc(expected_exceptions=EXPECTED)
    def cosignature_queue(self, caller: Caller, query: dict) -> dict[str, Any]:
        """Signed notes of the caller's supervisees waiting for their co-signature, oldest first."""
        q = load(NoteQueueSchema(), query)
        enforce(self.uow, caller, p.may_see_cosignature_queue(caller), action=Action.READ, resource_type="Note",
                resource_id="co-signature queue")
        with self.uow() as uow:
            return worklists.awaiting_cosignature(uow, caller, q)

    @rpc(expected_exceptions=EXPECTED)
    def my_notifications(self, caller: Caller) -> list[dict[str, Any]]:
        """The caller's notifications (e.g. someone broke the glass on their client)."""
        with self.uow() as uow:
            return break_glass.notifications(uow, caller)
