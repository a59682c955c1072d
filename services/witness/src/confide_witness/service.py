"""The witness's entrypoints (c2sp.org/tlog-witness):

- ``POST /add-checkpoint``: a log submits a checkpoint it signed, the size it
  believes this witness last cosigned and a consistency proof from there; the
  witness answers with its cosignature only if the checkpoint is consistent
  with everything it cosigned before (``domain/policy.py``), having moved its
  record forward first, under a row lock. A log-signed request it refuses for
  inconsistency is kept as evidence of the log's misbehaviour.
- ``GET /<hex SHA-256 of an origin>/checkpoint``: the latest checkpoint it
  cosigned for that log, with the log's signature and its own (for monitors).
- ``GET /vkey``: its public key, as verifiers pin it.

Anyone may submit (C2SP: the log's signature is the only authentication).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from confide_access import open_rpc
from confide_persistence import Database
from confide_tlog.note import BadNote, Checkpoint, split_note, verified_by
from confide_tlog.witness import MAX_BODY, SIZE_TYPE, AddCheckpoint
from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from confide_witness import store
from confide_witness.domain.policy import judge
from confide_witness.logs import WitnessSetup

log = logging.getLogger(__name__)
TEXT = "text/plain; charset=utf-8"


def plain(status: int, text: str, content_type: str = TEXT) -> Response:
    return Response(text if text.endswith("\n") else text + "\n", status=status, content_type=content_type,
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


class WitnessService:
    name = "witness"

    db = Database()
    witnessing = WitnessSetup()

    @http("POST", "/add-checkpoint")
    def add_checkpoint(self, request: Request) -> Response:
        if (request.content_length or 0) > MAX_BODY:
            return plain(413, f"at most {MAX_BODY} bytes")
        body = request.get_data(cache=False)  # (nameko's server reads the body before we see it)
        if len(body) > MAX_BODY:
            return plain(413, f"at most {MAX_BODY} bytes")
        try:
            submitted = AddCheckpoint.parse(body)
            text, _ = split_note(submitted.note)
            checkpoint = Checkpoint.parse(text)
        except BadNote as exc:
            return plain(400, str(exc))
        known = self.witnessing.logs.get(checkpoint.origin)
        if known is None:
            return plain(404, f"this witness does not witness {checkpoint.origin}")
        try:
            _, signed_by = verified_by(submitted.note, known.verifiers)
        except BadNote as exc:
            log.info("refused %s: %s", checkpoint.origin, exc)
            return plain(403, str(exc))
        with self.db.transaction() as session:
            latest = store.locked_latest(session, checkpoint.origin)
            judgement = judge(submitted, checkpoint, latest)
            if judgement.evidence:
                store.keep_evidence(session, checkpoint.origin, judgement.status, judgement.reason, body.decode())
                log.error("ALERT witness-refused %s size %s: %s (request kept)", checkpoint.origin,
                          checkpoint.size, judgement.reason)
            if judgement.status == 409:
                return plain(409, str(latest.size), SIZE_TYPE)
            if not judgement.cosign:
                return plain(judgement.status, judgement.reason)
            line = self.witnessing.cosigner.cosign(text)
            if checkpoint.size != latest.size:  # (what it serves: the text, the log's verified signatures, its own)
                keep = {(v.name, v.key_id) for v in signed_by}
                log_lines = "".join(s.line for s in split_note(submitted.note)[1] if (s.name, s.key_id) in keep)
                store.cosigned(session, checkpoint.origin, checkpoint.size, checkpoint.root_hash,
                               f"{text}\n{log_lines}{line}")
        log.info("cosigned %s size %s (%s)", checkpoint.origin, checkpoint.size, judgement.reason)
        return plain(200, line)

    @http("GET", "/<origin_hash>/checkpoint")
    def checkpoint(self, request: Request, origin_hash: str) -> Response:
        origin = next((o for o in self.witnessing.logs if hashlib.sha256(o.encode()).hexdigest() == origin_hash),
                      None)
        if origin is None:
            return plain(404, "no such log")
        with self.db.transaction() as session:
            note = store.latest_note(session, origin)
        return plain(200, note) if note else plain(404, "nothing cosigned for this log yet")

    @http("GET", "/vkey")
    def vkey(self, request: Request) -> Response:
        return plain(200, self.witnessing.cosigner.verifier.vkey)

    @open_rpc
    def health(self) -> dict[str, Any]:
        with self.db.transaction() as session:
            store.ping(session)
        return {"status": "ok", "logs": len(self.witnessing.logs)}
