"""Transparency-log formats, as C2SP specifies them, and RFC 6962 Merkle proofs.

- ``note``: signed notes (c2sp.org/signed-note), verifier keys (vkeys) and
  checkpoints (c2sp.org/tlog-checkpoint);
- ``cosignature``: timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature);
- ``witness``: the add-checkpoint request and answers (c2sp.org/tlog-witness);
- ``merkle``: RFC 6962 hashes, inclusion and consistency proofs.

Pure functions over bytes: the audit service signs with them, the witness
checks and cosigns with them, and an auditor outside the clinic verifies with
them (``confide audit verify``). Nothing here talks to a network or a database.
"""
