"""What the witness needs under ``make run``: the logs it witnesses (the audit
service's chains) and their public keys, read once from the local Vault."""

from __future__ import annotations

from pathlib import Path


def local_settings(state: Path) -> dict[str, str]:
    return {"CONFIDE_WEB_SERVER_ADDRESS": "127.0.0.1:8010"}
