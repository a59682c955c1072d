"""Public transparency without client data: anyone the operator allows (here,
anyone) follows the trail's checkpoints and its Merkle tree as C2SP tlog-tiles
hash tiles -- hashes, never an entry -- and recomputes the signed root from
them. A monitor's token reaches checkpoints, consistency proofs and tiles, and
nothing that holds an entry."""

from __future__ import annotations

import base64
import hashlib

from confide_testing import wait_until

CLIENT = {"given_name": "Robin", "family_name": "Hale", "date_of_birth": "1988-04-02", "home_site_id": "north"}


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_of(leaf_hashes: list[bytes]) -> bytes:  # RFC 6962 MTH over leaves already hashed
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = 1 << ((len(leaf_hashes) - 1).bit_length() - 1)
    return node(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def hashes(data: bytes) -> list[bytes]:
    assert len(data) % 32 == 0
    return [data[i:i + 32] for i in range(0, len(data), 32)]


def test_anyone_recomputes_the_signed_root_from_hash_tiles(gateway_with):
    gw = gateway_with("records", "audit", GATEWAY_PUBLIC_TRANSPARENCY=True, GATEWAY_RATE_PER_SECOND=10_000,
                      GATEWAY_RATE_BURST=10_000)
    desk, officer = gw.token("front_desk"), gw.token("compliance_officer", sites=())
    for i in range(280):
        assert gw.call("POST", "/api/v1/clients", desk, json={**CLIENT, "family_name": f"Hale-{i}"}).status_code == 201

    def signed() -> int:
        gw.call("POST", "/api/v1/audit/checkpoints", officer)
        note = gw.call("GET", "/transparency/chain/0/checkpoint")  # no token
        return note.status_code == 200 and int(note.text.split("\n")[1]) >= 280 and note.text

    note = wait_until(signed, timeout=60, what="a checkpoint over 280 entries")
    origin, size, root = note.split("\n")[:3]
    assert origin == "confide.test/audit/chain/0"
    full, rest = divmod(int(size), 256)
    level0 = [gw.call("GET", f"/transparency/chain/0/tile/0/{n:03d}") for n in range(full)]
    level0.append(gw.call("GET", f"/transparency/chain/0/tile/0/{full:03d}.p/{rest}"))
    assert all(t.status_code == 200 and t.headers["Content-Type"] == "application/octet-stream" for t in level0)
    leaves = [h for t in level0 for h in hashes(t.content)]
    assert len(leaves) == int(size) and root_of(leaves) == base64.b64decode(root)
    # the level above holds the roots of the full tiles below
    level1 = gw.call("GET", f"/transparency/chain/0/tile/1/000.p/{full}")
    assert hashes(level1.content) == [root_of(leaves[i * 256:(i + 1) * 256]) for i in range(full)]
    # nothing beyond the signed tree, no malformed path, and nothing that holds an entry
    assert gw.call("GET", f"/transparency/chain/0/tile/0/{full + 1:03d}").status_code == 404
    assert gw.call("GET", "/transparency/chain/0/tile/0/1").status_code == 404
    assert b"Hale" not in b"".join(t.content for t in level0)
    assert gw.call("GET", "/api/v1/audit/entries").status_code == 401
    # an anonymous reader's headers are not facts: nothing it says reaches the trail
    said = gw.call("GET", "/transparency/chain/0/checkpoint", headers={"X-On-Behalf-Of": "x" * 200,
                                                                        "X-Purpose-Of-Use": "emergency"})
    assert said.status_code == 200
    monitor = gw.token("monitor", sites=())
    assert gw.call("GET", "/api/v1/audit/entries", monitor).status_code == 403
    assert gw.call("GET", "/api/v1/audit/proofs/inclusion", monitor, params={"chain": 0, "seq": 1}).status_code == 403
    assert gw.call("GET", "/api/v1/audit/proofs/consistency", monitor,
                   params={"chain": 0, "old_size": int(size), "new_size": int(size)}).status_code == 200


def test_without_the_operators_leave_a_token_is_needed(gateway_with):
    gw = gateway_with("audit")
    assert gw.call("GET", "/transparency/chain/0/checkpoint").status_code == 401
    assert gw.call("GET", "/transparency/chain/0/tile/0/000").status_code == 401
    # a clinician's token is no monitor's: the trail's integrity views are for monitors and officers
    assert gw.call("GET", "/transparency/chain/0/checkpoint", gw.token("clinician")).status_code == 403
