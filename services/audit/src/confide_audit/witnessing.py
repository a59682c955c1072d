"""Witnesses: every new checkpoint goes to each configured witness (C2SP
tlog-witness), which cosigns it only if it extends what it cosigned before; the
cosignatures are kept beside the checkpoints. A refusal is an ALERT line, never
silence: a witness that will not cosign a chain's checkpoint has seen that
chain differently -- rewritten or cut.

Settings: ``AUDIT_WITNESSES``, a JSON list of ``{"url": ..., "vkey": ...}`` (a
witness's add-checkpoint prefix and its cosignature key; an external witness
works the same); ``AUDIT_WITNESS_QUORUM``: how many of them must have cosigned
a checkpoint for it to count (default: all); ``AUDIT_WITNESS_SECONDS``: how
often each chain's latest checkpoint is offered (default 2).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from confide_tlog import cosignature, merkle
from confide_tlog.note import BadNote, Verifier, open_checkpoint, split_note
from confide_tlog.witness import PATH, SIZE_TYPE, conflict_size, request

from confide_audit import store
from confide_audit.domain.verify import Fault

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Witness:
    url: str  # its submission prefix
    verifier: Verifier

    @property
    def name(self) -> str:
        return self.verifier.name

    def latest_url(self, origin: str) -> str:
        return f"{self.url.rstrip('/')}/{hashlib.sha256(origin.encode()).hexdigest()}/checkpoint"


def witnesses_from(value) -> list[Witness]:
    entries = json.loads(value) if isinstance(value, str) else (value or [])
    return [Witness(e["url"], Verifier.parse(e["vkey"])) for e in entries]


def quorum_from(value, witnesses: list[Witness]) -> int:
    return len(witnesses) if value in (None, "") else int(value)


class WitnessSubmitter:
    """Offers each chain's latest checkpoint to each witness that has not
    cosigned it, with a consistency proof from the size that witness holds."""

    def __init__(self, engine, witnesses: list[Witness], chains: list[int], seconds: float = 2.0) -> None:
        self.engine, self.witnesses, self.chains, self.seconds = engine, witnesses, chains, seconds
        self.stopping = threading.Event()
        self.http = requests.Session()

    def run(self) -> None:
        while not self.stopping.wait(self.seconds):
            for chain in self.chains:
                for witness in self.witnesses:
                    try:
                        self.offer(chain, witness)
                    except Exception as exc:  # noqa: BLE001 - one witness down must not stop the others
                        log.error("ALERT audit-witness-unreachable %s chain %s: %s", witness.name, chain,
                                  type(exc).__name__)

    def stop(self) -> None:
        self.stopping.set()

    def offer(self, chain: int, witness: Witness) -> bool:
        """Offer ``chain``'s latest checkpoint to ``witness``; True once it is cosigned."""
        with self.engine.connect() as conn:
            latest = store.latest_checkpoint(conn, chain)
            if latest is None or store.is_cosigned(conn, chain, latest.size, witness.name):
                return latest is not None
            old = store.last_cosigned_size(conn, chain, witness.name)
        for _ in range(2):  # (a 409 says where the witness is: once more from there)
            answer = self._post(witness, chain, old, latest)
            if answer.status_code == 409 and answer.headers.get("Content-Type", "").startswith(SIZE_TYPE):
                old = conflict_size(answer.content)
                if old > latest.size:
                    break
                continue
            break
        if answer.status_code != 200:
            log.error("ALERT audit-witness-refused %s chain %s size %s: %s %s", witness.name, chain, latest.size,
                      answer.status_code, answer.text.strip()[:200])
            return False
        text, _ = split_note(latest.note)
        try:
            [found] = cosignature.cosigners(text, answer.text, [witness.verifier])
        except (BadNote, ValueError):
            log.error("ALERT audit-witness-bad-cosignature %s chain %s size %s", witness.name, chain, latest.size)
            return False
        with self.engine.begin() as conn:
            store.add_cosignature(conn, chain, latest.size, witness.name, found.line,
                                  datetime.fromtimestamp(found.timestamp, UTC))
        return True

    def _post(self, witness: Witness, chain: int, old: int, latest) -> requests.Response:
        with self.engine.connect() as conn:
            proof = merkle.consistency_proof(store.StoredTree(conn, chain), old, latest.size) \
                if 0 < old < latest.size else []
        return self.http.post(witness.url.rstrip("/") + PATH, data=request(old, proof, latest.note), timeout=10)


@dataclass(frozen=True)
class Witnessed:
    witness: str
    size: int
    root_hash: bytes
    note: str  # the log's checkpoint with the witness's cosignature, as the witness serves it


def unwitnessed(chain: int, held: list[Witnessed], witnesses: list[Witness], quorum: int) -> list[Fault]:
    """A fault when fewer witnesses than the quorum vouch for ``chain`` (a
    witness unreachable, silent, or serving what does not verify): what they
    cannot show us, verify cannot have checked."""
    if not witnesses or len({w.witness for w in held}) >= quorum:
        return []
    return [Fault(chain, None, "unwitnessed", f"{len(held)} of the {len(witnesses)} witnesses vouch for this "
                                              f"chain's checkpoints, fewer than the quorum of {quorum}")]


def witnessed(witnesses: list[Witness], origin: str, log_verifiers: list[Verifier]) -> list[Witnessed]:
    """The latest checkpoint each witness cosigned for ``origin``, asked of the
    witness itself -- not read from our own database, which whoever runs this
    service could rewrite. Checked: the log's signature and the witness's."""
    found = []
    for witness in witnesses:
        try:
            answer = requests.get(witness.latest_url(origin), timeout=10)
            if answer.status_code == 404:
                continue
            answer.raise_for_status()
            checkpoint = open_checkpoint(answer.text, log_verifiers)
            if not cosignature.cosigners(checkpoint.text, answer.text.rpartition("\n\n")[2], [witness.verifier]):
                raise BadNote("no cosignature by the witness")
        except (requests.RequestException, BadNote) as exc:
            log.error("ALERT audit-witness-unreadable %s %s: %s", witness.name, origin, exc)
            continue
        found.append(Witnessed(witness.name, checkpoint.size, checkpoint.root_hash, answer.text))
    return found

