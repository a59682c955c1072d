"""The ``confide`` command's answers to bad input: a message naming the flag or
file, never a traceback."""

import json

import pytest
from confide_client.cli import main
from confide_tlog.note import ED25519, Verifier
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

pytestmark = pytest.mark.unit


def vkey(name: str) -> str:
    public = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return Verifier(name, ED25519, public).vkey


@pytest.mark.parametrize(("args", "says"), [
    (["--log-key", "not-a-key"], "--log-key"),
    (["--log-key", vkey("log"), "--witness-key", "nope"], "--witness-key"),
    (["--log-key", vkey("log"), "--witness-key", vkey("w"), "--quorum", "2"], "--quorum"),
])
def test_bad_pins_are_named(tmp_path, args, says):
    export = tmp_path / "export.jsonl"
    export.write_text("")
    with pytest.raises(SystemExit) as stopped:
        main(["audit", "verify", "--offline", str(export), *args])
    assert says in str(stopped.value.code)


@pytest.mark.parametrize(("export", "checkpoints", "says"), [
    ("{not json\n", "[]", "export line 1"),
    (json.dumps({"seq": 0}) + "\n", "[]", "export line 1"),
    ("", "[{\"no\": 1}]", "checkpoints.json"),
])
def test_a_bad_export_or_checkpoints_file_is_named(tmp_path, export, checkpoints, says):
    (tmp_path / "export.jsonl").write_text(export)
    (tmp_path / "checkpoints.json").write_text(checkpoints)
    with pytest.raises(SystemExit) as stopped:
        main(["audit", "verify", "--offline", str(tmp_path / "export.jsonl"), "--log-key", vkey("log"),
              "--checkpoints", str(tmp_path / "checkpoints.json")])
    assert says in str(stopped.value.code)
