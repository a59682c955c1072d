"""The audit log's rules as plain Python: canonical form, hash chain, RFC 6962
Merkle tree and proofs, signed checkpoints, verification. No I/O here."""
