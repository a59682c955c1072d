"""``confide audit monitor``: someone outside the clinic keeps the last
checkpoint of each chain they accepted, and accepts a new one only if the
pinned log key signed it and a consistency proof shows it extends the last.
A log that shows them a different history (a fork: rewritten and re-signed) is
an ALERT and exit status 1."""

from __future__ import annotations

import hashlib
import json

from confide_audit.signing import CheckpointSigner
from confide_client.cli import main
from confide_client.offline import log_vkeys
from confide_testing import wait_until

CLIENT = {"given_name": "Robin", "family_name": "Hale", "date_of_birth": "1988-04-02", "home_site_id": "north"}


def test_the_monitor_accepts_growth_and_catches_a_fork(gateway_with, monkeypatch, tmp_path, capsys):
    gw = gateway_with("records", "audit")
    officer = gw.token("compliance_officer", sites=())
    monkeypatch.setenv("CONFIDE_URL", gw.base)
    monkeypatch.setenv("CONFIDE_TOKEN", officer)
    desk = gw.token("front_desk")

    def grown() -> dict | None:
        """A new client (an access in the trail), then a checkpoint: the checkpoints listed, or None while
        there was nothing new to sign (the access not in the trail yet)."""
        gw.call("POST", "/api/v1/clients", desk, json=CLIENT)
        checkpointed = gw.call("POST", "/api/v1/audit/checkpoints", officer).json()
        return gw.call("GET", "/api/v1/audit/checkpoints", officer).json() if checkpointed else None

    listed = wait_until(grown, what="a checkpoint")
    pins = [f"--log-key={k}" for k in log_vkeys(listed["key_name"], listed["public_keys"])]
    state = tmp_path / "monitor.json"
    monitor = ["audit", "monitor", *pins, "--quorum", "0", "--state", str(state), "--once"]
    assert main(monitor) == 0
    first = json.loads(state.read_text())
    wait_until(lambda: (now := grown()) and now["checkpoints"][0]["size"] > json.loads(first[0]["note"].split("\n")[1]),
               what="a larger checkpoint")
    assert main(monitor) == 0 and "accepted" in capsys.readouterr().out  # (a consistency proof checked)

    # the log shows this monitor one history, and has signed another: caught
    accepted = json.loads(state.read_text())[0]
    size = int(accepted["note"].split("\n")[1])
    audit = gw.services["audit"]
    signer = CheckpointSigner(audit.transit, "audit-checkpoints", listed["key_name"])
    _, forked, _ = signer.sign_root(accepted["chain"], size, hashlib.sha256(b"another history").digest())
    state.write_text(json.dumps([{"chain": accepted["chain"], "note": forked}]))
    assert main(monitor) == 1
    assert "ALERT chain" in capsys.readouterr().err

    # a kept checkpoint that no longer verifies (edited, or a key unpinned) is a fault, not a fresh start:
    # as a fresh start the monitor would take any size the log shows next, a rollback too
    lines = accepted["note"].split("\n")
    lines[1] = "1"
    state.write_text(json.dumps([{"chain": accepted["chain"], "note": "\n".join(lines)}]))
    assert main(monitor) == 1
    assert "does not verify" in capsys.readouterr().err
