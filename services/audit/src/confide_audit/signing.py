"""Signing checkpoints with a Vault transit key that never leaves Vault."""

from __future__ import annotations

from functools import lru_cache

from confide_tlog.note import ED25519, Verifier, chain_origin
from confide_vault import Transit

from confide_audit.domain.chain import ChainHead, root_of
from confide_audit.domain.checkpoint import Checkpoint


class CheckpointSigner:
    def __init__(self, transit: Transit, key: str, log_name: str) -> None:
        self.transit = transit
        self.key = key
        self.log_name = log_name

    @property
    def key_name(self) -> str:
        return self.log_name

    def origin(self, chain: int) -> str:
        return chain_origin(self.log_name, chain)

    @lru_cache(maxsize=64)  # noqa: B019 - one signer per process; versions never change
    def public_key(self, version: int) -> bytes:
        return self.transit.public_key(self.key, version)

    def verifiers(self) -> list[Verifier]:
        """Every version of the checkpoint key, as C2SP note verifiers."""
        return [Verifier(self.key_name, ED25519, k) for k in self.public_keys()]

    def public_keys(self) -> list[bytes]:
        latest = self.transit.latest_version(self.key)
        return [self.public_key(v) for v in range(1, latest + 1)]

    def sign(self, head: ChainHead) -> tuple[Checkpoint, str, int]:
        """The checkpoint of ``head``, its signed note and the key version used."""
        return self.sign_root(head.chain, head.size, root_of(head))

    def sign_root(self, chain: int, size: int, root_hash: bytes) -> tuple[Checkpoint, str, int]:
        checkpoint = Checkpoint(self.origin(chain), size, root_hash)
        key_version, signature = self.transit.sign_raw(self.key, checkpoint.body)
        return checkpoint, checkpoint.note(self.key_name, self.public_key(key_version), signature), key_version
