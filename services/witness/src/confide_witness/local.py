"""Under ``make run``: the witness listens beside the gateway (127.0.0.1:8000), on
its own port, whatever the gateway was told."""

from __future__ import annotations

import os
from pathlib import Path

ADDRESS = os.environ.get("CONFIDE_WITNESS_ADDRESS", "127.0.0.1:8010")


def local_settings(state: Path) -> dict[str, str]:
    return {"CONFIDE_WEB_SERVER_ADDRESS": ADDRESS}
