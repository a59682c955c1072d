"""Checkpoints of the audit chains: C2SP ``tlog-checkpoint`` signed notes
(``confide_tlog.note``), each chain its own log origin, signed by the audit
service's Vault transit key (type 0x01, Ed25519)."""

from __future__ import annotations

from confide_tlog.note import ED25519, Checkpoint, Verifier, open_checkpoint


def verify_note(note: str, key_name: str, public_key: bytes) -> Checkpoint:
    """The checkpoint in ``note`` if ``key_name``'s key signed it; else ``BadNote``."""
    return open_checkpoint(note, [Verifier(key_name, ED25519, public_key)])


__all__ = ["Checkpoint", "verify_note"]
