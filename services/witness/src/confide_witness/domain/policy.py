"""What the witness cosigns (c2sp.org/tlog-witness): a pure function of the
request, the checkpoint the log signed, and the latest checkpoint the witness
cosigned for that origin. It never cosigns two inconsistent checkpoints of one
log, nor a smaller tree after a larger one: the request must start from the
size it last cosigned (else 409 with that size), and carry an RFC 6962 proof
from that tree, whose root the witness kept, to the new one."""

from __future__ import annotations

from dataclasses import dataclass

from confide_tlog import merkle
from confide_tlog.note import Checkpoint
from confide_tlog.witness import AddCheckpoint


@dataclass(frozen=True)
class Latest:
    size: int
    root_hash: bytes


NEVER = Latest(0, merkle.EMPTY_ROOT)


@dataclass(frozen=True)
class Judgement:
    status: int  # 200 cosign; 400, 409, 422 refuse
    reason: str

    @property
    def cosign(self) -> bool:
        return self.status == 200

    evidence: bool = False  # the log signed two different roots for one size: proof of a fork, kept


def judge(request: AddCheckpoint, checkpoint: Checkpoint, latest: Latest) -> Judgement:
    old, new = request.old_size, checkpoint.size
    if old > new:
        return Judgement(400, f"old size {old} is above the checkpoint's size {new}")
    if old != latest.size:
        return Judgement(409, f"the latest cosigned checkpoint has size {latest.size}, not {old}")
    if new == 0 and checkpoint.root_hash != merkle.EMPTY_ROOT:
        return Judgement(422, "a tree of size 0 has the empty tree's root")
    if old == 0:
        if request.proof:
            return Judgement(422, "a consistency proof from the empty tree is empty")
        return Judgement(200, "the first checkpoint of this log")
    if old == new:
        if checkpoint.root_hash != latest.root_hash:
            return Judgement(422, f"size {new} was cosigned with another root", evidence=True)
        if request.proof:
            return Judgement(422, "a proof between one size and itself is empty")
        return Judgement(200, "the same checkpoint again")
    if not merkle.verify_consistency(old, new, latest.root_hash, checkpoint.root_hash, request.proof):
        # (the proof is the submitter's, not the log's: a bad one proves nothing about the log)
        return Judgement(422, f"the proof does not show size {new} extends the cosigned size {old}")
    return Judgement(200, f"consistent with size {old}")
