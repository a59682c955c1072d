"""The audit service's entrypoints: queries for compliance officers, a client's
own access report, checkpoints, proofs and verification. Ingest runs beside
them (:class:`~confide_audit.ingest.AuditIngestor`). Who may read the trail is
``domain/policy.py``; the SQL is ``store`` and ``queries``."""

from __future__ import annotations

import base64
import logging
from contextlib import closing
from dataclasses import replace
from typing import Any

from confide_access import Action, enforce, load, open_rpc, record_access, rpc
from confide_access.events import Caller, Purpose
from confide_contracts import records as records_events
from confide_contracts.errors import EXPECTED, InvalidRequest, conflict, invalid, missing
from confide_contracts.projections import apply_login_link, own_record
from confide_contracts.rpc.audit import (
    AfterHoursSchema,
    ConsistencySchema,
    InclusionSchema,
    LegalHoldSchema,
    QuerySchema,
    ReleaseSchema,
    TileSchema,
    UnreviewedSchema,
)
from confide_messaging import OutboxRelayRunner, UnitOfWorkProvider, handles
from confide_tlog.merkle import consistency_proof, inclusion_proof
from confide_tlog.note import ED25519, Verifier

from confide_audit import queries, retention, store
from confide_audit.domain import policy
from confide_audit.domain.entry import canonical, facts_from_row
from confide_audit.domain.retention import RETENTION_DAYS
from confide_audit.domain.verify import StoredCheckpoint, verify_chain
from confide_audit.ingest import AuditIngestor
from confide_audit.models import linked_logins
from confide_audit.witnessing import unwitnessed, witnessed


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


log = logging.getLogger(__name__)


class AuditService:
    """Reads that reveal anything about clients (queries, disclosures, reports,
    exports, a client's own report) are access events in the trail like any
    other; checks of the log's integrity (checkpoints, proofs, verify) are not,
    as they show hashes and positions only. Every denial is recorded."""

    name = "audit"

    uow = UnitOfWorkProvider()
    relay = OutboxRelayRunner()
    ingestor = AuditIngestor()

    # --- authorization ---------------------------------------------------------
    def _officer(self, caller: Caller, what: str, client_id: str | None = None) -> Caller:
        who = caller
        return enforce(self.uow, who, policy.may_use_trail(who, what), action=Action.READ,
                       resource_type="AuditTrail", resource_id=what, client_id=client_id)

    # --- queries ---------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def query(self, caller: Caller, filters: dict | None = None, export: bool = False) -> dict[str, Any]:
        """Entries matching ``filters`` (see ``QuerySchema``), oldest first unless
        ``order`` is ``desc``; ``next_cursor`` fetches the next page. For
        compliance officers and admins; ``export`` marks the access as an export
        (the pages feed ``confide_contracts.audit_export``). Raises AccessDenied, InvalidRequest."""
        spec = load(QuerySchema(), filters)
        who = self._officer(caller, "export" if export else "query", spec.get("client_id"))
        with self.uow() as uow:
            result = queries.run_query(uow.session.connection(), spec)
            if not export or not spec.get("cursor"):  # an export is one access, not one per page
                record_access(uow, who, action=Action.EXPORT if export else Action.READ,
                              resource_type="AuditTrail", resource_id="export" if export else "query",
                              client_id=spec.get("client_id"))
        return result

    @rpc(expected_exceptions=EXPECTED)
    def denied_by_actor(self, caller: Caller, since: str | None = None, until: str | None = None) -> list[dict]:
        """Report: denied attempts per actor, most first."""
        spec = load(QuerySchema(), {k: v for k, v in (("since", since), ("until", until)) if v})
        who = self._officer(caller, "report")
        with self.uow() as uow:
            result = queries.denied_by_actor(uow.session.connection(), spec.get("since"), spec.get("until"))
            record_access(uow, who, action=Action.READ, resource_type="AuditTrail", resource_id="denied-report")
        return result

    @rpc(expected_exceptions=EXPECTED)
    def outside_care_team(self, caller: Caller, since: str | None = None, until: str | None = None,
                          limit: int = 1000) -> list[dict]:
        """Report: clinicians' and supervisors' access to clients outside their care
        team (supervision, break-the-glass, ...), newest first, with the basis."""
        spec = load(QuerySchema(), {k: v for k, v in (("since", since), ("until", until), ("limit", limit)) if v})
        who = self._officer(caller, "report")
        with self.uow() as uow:
            rows = queries.outside_care_team(uow.session.connection(), spec.get("since"), spec.get("until"),
                                             spec.get("limit", 1000))
            record_access(uow, who, action=Action.READ, resource_type="AuditTrail", resource_id="outside-care-team")
        return rows

    @rpc(expected_exceptions=EXPECTED)
    def after_hours(self, caller: Caller, time_zone: str, opens: int = 8, closes: int = 18,
                    site_id: str | None = None, limit: int = 1000) -> list[dict]:
        """Report: accesses outside opening hours (``opens``..``closes``, local to
        ``time_zone``, an IANA name such as ``America/Chicago``) or at weekends."""
        spec = load(AfterHoursSchema(), {"time_zone": time_zone, "opens": opens, "closes": closes,
                                         "site_id": site_id, "limit": limit})
        who = self._officer(caller, "report")
        with self.uow() as uow:
            rows = queries.after_hours(uow.session.connection(), spec["time_zone"], spec["opens"],
                                       spec["closes"], spec["site_id"], spec["limit"])
            record_access(uow, who, action=Action.READ, resource_type="AuditTrail", resource_id="after-hours")
        return rows

    @rpc(expected_exceptions=EXPECTED)
    def break_glass_unreviewed(self, caller: Caller, older_than_hours: int = 0, limit: int = 1000) -> list[dict]:
        """Report: break-the-glass grants no compliance officer has reviewed yet,
        oldest first, with how often the grantee read the record under each.
        Read from the trail itself: opening a grant and reviewing it are both
        access events (records writes them), so nothing outside the log is trusted."""
        spec = load(UnreviewedSchema(), {"older_than_hours": older_than_hours, "limit": limit})
        who = self._officer(caller, "report")
        with self.uow() as uow:
            rows = queries.break_glass_unreviewed(uow.session.connection(), spec["older_than_hours"], spec["limit"])
            record_access(uow, who, action=Action.READ, resource_type="AuditTrail",
                          resource_id="break-glass-unreviewed")
        return rows

    # --- retention -------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def place_legal_hold(self, caller: Caller, hold: dict) -> dict[str, Any]:
        """Hold one client's entries (``client_id``) or, without one, the whole
        log: no purge removes them until the hold is released."""
        data = load(LegalHoldSchema(), hold)
        who = self._officer(caller, "hold", data["client_id"])
        with self.uow() as uow:
            hold_id = retention.place_hold(uow.session.connection(), data["client_id"], data["reason"], who.user_id)
            record_access(uow, who, action=Action.CREATE, resource_type="LegalHold", resource_id=str(hold_id),
                          client_id=data["client_id"], reason=data["reason"])
        return {"id": str(hold_id), "client_id": data["client_id"], "reason": data["reason"], "active": True}

    @rpc(expected_exceptions=EXPECTED)
    def release_legal_hold(self, caller: Caller, hold_id: str, reason: str) -> dict[str, Any]:
        data = load(ReleaseSchema(), {"hold_id": hold_id, "reason": reason})
        who = self._officer(caller, "hold")
        with self.uow() as uow:
            try:
                released = retention.release_hold(uow.session.connection(), data["hold_id"], data["reason"],
                                                  who.user_id)
            except ValueError as exc:
                raise conflict("hold_id", str(exc)) from None
            record_access(uow, who, action=Action.UPDATE, resource_type="LegalHold", resource_id=str(hold_id),
                          client_id=released["client_id"], reason=data["reason"])
        return released

    @rpc(expected_exceptions=EXPECTED)
    def legal_holds(self, caller: Caller) -> dict[str, Any]:
        """Every hold, active and released, and where each chain now starts."""
        who = self._officer(caller, "holds")
        with self.uow() as uow:
            conn = uow.session.connection()
            holds = retention.list_holds(conn)
            starts = {}
            for chain in store.chains(conn):
                start = retention.horizon(conn, chain)
                starts[str(chain)] = start.first_seq if start else 0
            record_access(uow, who, action=Action.READ, resource_type="LegalHold", resource_id="list")
        return {"holds": holds, "retention_days": RETENTION_DAYS, "chains_start_at": starts}

    @rpc(expected_exceptions=EXPECTED)
    def disclosures(self, caller: Caller, client_id: str) -> list[dict[str, Any]]:
        """Accounting of disclosures for ``client_id`` over the last six years."""
        if not client_id:
            raise InvalidRequest({"client_id": ["required"]})
        who = self._officer(caller, "disclosures", client_id)
        with self.uow() as uow:
            result = queries.disclosures(uow.session.connection(), client_id)
            record_access(uow, who, action=Action.READ, resource_type="AuditTrail",
                          resource_id="disclosures", client_id=client_id)
        return result

    @rpc(expected_exceptions=EXPECTED)
    def my_access_report(self, caller: Caller, cursor: str | None = None, limit: int = 100) -> dict[str, Any]:
        """For a client: who accessed my record, when and why, each entry with its
        inclusion proof in a witnessed checkpoint. Only the caller's own record (the
        one their login was linked to, by invitation). With the keys to check the
        proofs by (the log's and its witnesses', as ``checkpoints`` gives them):
        a client compares their fingerprints with those the clinic publishes."""
        who = caller
        enforce(self.uow, who, policy.may_see_access_report(who), action=Action.READ, resource_type="AccessReport",
                resource_id=who.user_id)
        with self.uow() as uow:
            conn = uow.session.connection()
            record = own_record(conn, linked_logins, who.user_id)
            spec = load(QuerySchema(), {"client_id": record or "-", "cursor": cursor, "limit": limit,
                                        "order": "desc"})
            result = queries.run_query(conn, spec) if record else {"entries": [], "next_cursor": None}
            result["entries"] = queries.with_proofs(conn, result["entries"], *self.ingestor.witnessing())
            record_access(uow, replace(who, purpose=Purpose.CLIENT_REQUEST), action=Action.READ,
                          resource_type="AccessReport", resource_id=record, client_id=record)
        return {**result, "client_id": record, **self.ingestor.keys()}

    @handles(records_events.LOGIN_LINKED)
    def on_login_linked(self, event) -> None:
        """Whose record a login is (records, when a person redeems an invitation)."""
        with self.uow(handling=event) as uow:
            apply_login_link(uow.session.connection(), linked_logins, event.payload)

    # --- tamper evidence -------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def checkpoints(self, caller: Caller) -> dict[str, Any]:
        """The latest signed checkpoint of every chain with its witnesses'
        cosignatures, the public keys to check them, and whether a quorum cosigned."""
        self._officer(caller, "checkpoints")
        witnesses, quorum = self.ingestor.witnesses, self.ingestor.quorum
        with self.uow() as uow:
            conn = uow.session.connection()
            latest = {chain: store.latest_checkpoint(conn, chain) for chain in store.chains(conn)}
            cosigned = {c: store.cosignatures_at(conn, c, cp.size) for c, cp in latest.items() if cp}
        return {
            **self.ingestor.keys(),
            "checkpoints": [
                {"chain": c, "size": cp.size, "note": cp.note + "".join(cosigned[c]), "cosignatures": len(cosigned[c]),
                 "witnessed": bool(witnesses) and len(cosigned[c]) >= quorum}
                for c, cp in latest.items() if cp is not None
            ],
        }

    @rpc(expected_exceptions=EXPECTED)
    def prove_inclusion(self, caller: Caller, chain: int, seq: int, tree_size: int | None = None) -> dict[str, Any]:
        """An RFC 6962 inclusion proof of entry ``seq`` in the checkpoint of
        ``tree_size`` (default: the latest that a quorum of witnesses cosigned),
        with the entry's canonical bytes and the checkpoint's cosignatures."""
        args = load(InclusionSchema(), {"chain": chain, "seq": seq, "tree_size": tree_size})
        chain, seq, tree_size = args["chain"], args["seq"], args["tree_size"]
        self._officer(caller, "prove")
        with self.uow() as uow:
            conn = uow.session.connection()
            size = tree_size or (store.latest_witnessed(conn, chain, *self.ingestor.witnessing()) or (None,))[0]
            cp = store.checkpoint_at(conn, chain, size) if size else None
            if cp is None:
                raise missing("tree_size", f"no {'' if tree_size else 'witnessed '}checkpoint of chain {chain}"
                              f"{' at that size' if tree_size else ' yet'}")
            row = store.leaf(conn, chain, seq)
            if row is None:
                raise missing("seq", f"chain {chain} has no entry {seq}")
            if seq >= cp.size:
                raise missing("tree_size", f"entry {seq} is not yet in a checkpoint (size {cp.size})")
            proof = inclusion_proof(store.StoredTree(conn, chain), seq, cp.size)
            data = canonical(chain, seq, row.recorded_at, facts_from_row(row))
            cosigned = store.cosignatures_at(conn, chain, cp.size)
        return {"chain": chain, "seq": seq, "tree_size": cp.size, "canonical": b64(data),
                "leaf_hash": b64(bytes(row.leaf_hash)), "proof": [b64(h) for h in proof],
                "checkpoint": cp.note + "".join(cosigned)}

    @rpc(expected_exceptions=EXPECTED)
    def prove_consistency(self, caller: Caller, chain: int, old_size: int, new_size: int) -> dict[str, Any]:
        """An RFC 6962 consistency proof that the checkpoint of ``new_size`` extends that of ``old_size``."""
        load(ConsistencySchema(), {"chain": chain, "old_size": old_size, "new_size": new_size})
        self._officer(caller, "consistency")
        with self.uow() as uow:
            conn = uow.session.connection()
            old, new = store.checkpoint_at(conn, chain, old_size), store.checkpoint_at(conn, chain, new_size)
            if old_size > new_size:
                raise invalid("old_size", f"must not be larger than new_size ({new_size})")
            if old is None or new is None:
                raise missing("old_size", f"chain {chain} has no checkpoints at {old_size} and {new_size}")
            proof = consistency_proof(store.StoredTree(conn, chain), old_size, new_size)
        return {"chain": chain, "old": old.note, "new": new.note, "proof": [b64(h) for h in proof]}

    @rpc(expected_exceptions=EXPECTED)
    def tile(self, caller: Caller, chain: int, level: int, index: int, width: int = 256) -> dict[str, Any]:
        """A C2SP tlog-tiles hash tile of ``chain`` (base64): hashes only, within its latest checkpoint."""
        args = load(TileSchema(), {"chain": chain, "level": level, "index": index, "width": width})
        self._officer(caller, "tiles")
        with self.uow() as uow:
            return {"tile": b64(store.tile(uow.session.connection(), **args))}

    @rpc(expected_exceptions=EXPECTED)
    def verify(self, caller: Caller) -> dict[str, Any]:
        """Recompute every chain and tree, check every checkpoint signature --
        ours, and the latest each witness cosigned, asked of the witness (a chain
        rewritten and re-signed, or cut short, no longer matches what they hold);
        the first fault of each chain with its sequence number and kind."""
        self._officer(caller, "verify")
        signer = self.ingestor.signer
        keys = signer.public_keys()
        with self.uow() as uow:
            chains = store.chains(uow.session.connection())
        verifiers = [Verifier(signer.key_name, ED25519, k) for k in keys]  # (one Vault round trip, not one a chain)
        held = {c: witnessed(self.ingestor.witnesses, signer.origin(c), verifiers) for c in chains}
        reports = []
        with self.uow() as uow:
            conn = uow.session.connection()
            for chain in chains:
                start = retention.horizon(conn, chain)
                checkpoints = [*store.stored_checkpoints(conn, chain),
                               *(StoredCheckpoint(w.size, w.root_hash, w.note) for w in held[chain])]
                with closing(store.stream_entries(conn, chain)) as stream:  # (a fault ends the pass early)
                    report = verify_chain(chain, stream, checkpoints, signer.key_name, keys, signer.origin(chain),
                                          start)
                report.faults += unwitnessed(chain, held[chain], self.ingestor.witnesses, self.ingestor.quorum)
                reports.append({"chain": chain, "entries": report.entries, "checkpoints": report.checkpoints,
                                "first_seq": start.first_seq if start else 0,
                                "witnessed": [{"witness": w.witness, "size": w.size} for w in held[chain]],
                                "ok": report.ok, "faults": [f.__dict__ for f in report.faults]})
        return {"ok": all(r["ok"] for r in reports), "chains": reports}

    @rpc(expected_exceptions=EXPECTED)
    def checkpoint_now(self, caller: Caller) -> list[int]:
        """Sign a checkpoint of every chain that grew since its last one (operators, tests)."""
        self._officer(caller, "checkpoint")
        return [c.writer.chain for c in self.ingestor.consumers if c.writer.checkpoint_if_due(force=True)]

    @open_rpc
    def health(self) -> dict[str, Any]:
        """Ready, or "lagging" when a chain has events waiting and has made no
        progress for AUDIT_MAX_LAG_SECONDS: accesses are being served that the
        trail does not yet hold (the probe fails, and operators are alerted)."""
        with self.uow() as uow:
            heads = store.heads(uow.session.connection())
        lag = self.ingestor.lag()
        lagging = [c["chain"] for c in lag if c["lagging"]]
        if lagging:
            log.critical("ALERT audit-chain-lagging: chain(s) %s have events waiting and no progress", lagging)
        return {"status": "lagging" if lagging else "ok", "chains": heads, "lag": lag,
                "ingested": sum(c.ingested for c in self.ingestor.consumers)}
