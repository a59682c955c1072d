"""The logs this witness witnesses, and how it signs: read once at start.

``WITNESS_LOGS``: a JSON list of ``{"origin": ..., "vkeys": [...]}`` -- each log's
checkpoint origin and the C2SP verifier keys of its checkpoint signatures
(pinned by the operator; a log's key rotation adds a vkey). ``WITNESS_NAME``:
the name its cosignatures carry (a schema-less URL, e.g.
``witness.clinic.example/w1``); ``WITNESS_KEY``: its Vault transit key.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache

from confide_tlog import cosignature
from confide_tlog.note import COSIGNATURE, Verifier, check_name
from confide_vault import Transit
from nameko import config
from nameko.extensions import DependencyProvider


@dataclass(frozen=True)
class Log:
    origin: str
    verifiers: tuple[Verifier, ...]


def read_logs(value) -> dict[str, Log]:
    entries = json.loads(value) if isinstance(value, str) else (value or [])
    logs = {}
    for entry in entries:
        verifiers = tuple(Verifier.parse(v) for v in entry["vkeys"])
        logs[entry["origin"]] = Log(entry["origin"], verifiers)
    return logs


class Cosigner:
    """Cosigns with the witness's Vault transit key (which never leaves Vault)."""

    def __init__(self, transit: Transit, key: str, name: str) -> None:
        self.transit, self.key, self.name = transit, key, check_name(name)

    @lru_cache(maxsize=16)  # noqa: B019 - one per process; a key version's public half never changes
    def public_key(self, version: int) -> bytes:
        return self.transit.public_key(self.key, version)

    @property
    def verifier(self) -> Verifier:
        """The witness's vkey as it cosigns now (its key's latest version)."""
        return Verifier(self.name, COSIGNATURE, self.public_key(self.transit.latest_version(self.key)))

    def cosign(self, checkpoint_text: str) -> str:
        timestamp = int(time.time())
        version, signature = self.transit.sign_raw(self.key, cosignature.message(checkpoint_text, timestamp))
        return cosignature.line(self.name, self.public_key(version), timestamp, signature)


@dataclass(frozen=True)
class Witnessing:
    logs: dict[str, Log]
    cosigner: Cosigner


class WitnessSetup(DependencyProvider):
    """``witnessing = WitnessSetup()``: the logs and the cosigner, made once."""

    def setup(self) -> None:
        transit = Transit(config["VAULT"], config.get("TRANSIT_MOUNT", "transit"))
        name = config.get("WITNESS_NAME", "confide.local/witness")
        self.value = Witnessing(read_logs(config.get("WITNESS_LOGS", "[]")),
                                Cosigner(transit, config.get("WITNESS_KEY", "witness-cosigning"), name))

    def get_dependency(self, worker_ctx) -> Witnessing:
        return self.value
