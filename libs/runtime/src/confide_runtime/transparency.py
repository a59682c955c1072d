"""Who witnesses the audit trail, as the bootstrap writes it beside the AppRole
ids: ``witness-logs.json`` (for the witness: each audit chain's origin and the
checkpoint key's verifier keys, every version) and ``audit-witnesses.json`` (for
the audit service: the witness's add-checkpoint URL and cosigning key). The
services read them as ``CONFIDE_WITNESS_LOGS_FILE`` and
``CONFIDE_AUDIT_WITNESSES_FILE``. A clinic network that uses witnesses of its
own, or outside ones, pins the same two settings by hand."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import hvac
from confide_tlog.note import COSIGNATURE, ED25519, Verifier, chain_origin

from confide_runtime.manifest import ServiceManifest

LOGS_FILE, WITNESSES_FILE = "witness-logs.json", "audit-witnesses.json"


def _public_keys(vault: hvac.Client, key: str, mount: str) -> list[bytes]:
    keys = vault.secrets.transit.read_key(key, mount_point=mount)["data"]["keys"]
    return [base64.b64decode(keys[v]["public_key"]) for v in sorted(keys, key=int)]


def settings(vault: hvac.Client, manifests: list[ServiceManifest], witness_url: str,
             mount: str = "transit") -> tuple[list[dict], list[dict]]:
    """(the witness's logs, the audit service's witnesses); empty unless both are installed."""
    found = {m.name: m for m in manifests}
    if "audit" not in found or "witness" not in found:
        return [], []
    audit, witness = found["audit"].config, found["witness"].config
    log_name = audit["AUDIT_LOG_NAME"]
    vkeys = [Verifier(log_name, ED25519, k).vkey for k in _public_keys(vault, audit["AUDIT_SIGNING_KEY"], mount)]
    logs = [{"origin": chain_origin(log_name, c), "vkeys": vkeys} for c in range(int(audit["AUDIT_PARTITIONS"]))]
    cosigning = _public_keys(vault, witness["WITNESS_KEY"], mount)[-1]
    witnesses = [{"url": witness_url, "vkey": Verifier(witness["WITNESS_NAME"], COSIGNATURE, cosigning).vkey}]
    return logs, witnesses


def write(folder: Path, logs: list[dict], witnesses: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOGS_FILE).write_text(json.dumps(logs, indent=2) + "\n")
    (folder / WITNESSES_FILE).write_text(json.dumps(witnesses, indent=2) + "\n")


def environment(folder: Path) -> dict[str, str]:
    """What points the services at the two files."""
    return {"CONFIDE_WITNESS_LOGS_FILE": str(folder / LOGS_FILE),
            "CONFIDE_AUDIT_WITNESSES_FILE": str(folder / WITNESSES_FILE)}
