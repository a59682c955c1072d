"""Clinical text goes through Vault transit before it reaches the database, and
comes back only through it: the database holds ``vault:vN:...`` ciphertext."""

from __future__ import annotations

from confide_vault import Transit
from nameko import config
from nameko.extensions import DependencyProvider

NOTES_KEY = "record-notes"
PSYCHOTHERAPY_KEY = "psychotherapy-notes"


class Sealer:
    """Encrypts and decrypts text under one transit key."""

    def __init__(self, transit: Transit, key: str) -> None:
        self.transit = transit
        self.key = key

    def seal(self, text: str) -> str:
        return self.transit.encrypt(self.key, text.encode())

    def seal_many(self, texts: list[str]) -> list[str]:
        if not texts:
            return []
        return self.transit.encrypt_batch(self.key, [t.encode() for t in texts])

    def open(self, ciphertext: str) -> str:
        return self.transit.decrypt(self.key, ciphertext).decode()

    def open_many(self, ciphertexts: list[str]) -> list[str]:
        return [p.decode() for p in self.transit.decrypt_batch(self.key, ciphertexts)]


class Sealers:
    def __init__(self, transit: Transit, notes_key: str, psychotherapy_key: str) -> None:
        self.notes = Sealer(transit, notes_key)
        self.psychotherapy = Sealer(transit, psychotherapy_key)


def sealers_from_config(vault) -> Sealers:
    transit = Transit(vault, config.get("TRANSIT_MOUNT", "transit"))
    return Sealers(transit, config.get("NOTES_KEY", NOTES_KEY), config.get("PSYCHOTHERAPY_KEY", PSYCHOTHERAPY_KEY))


class Sealing(DependencyProvider):
    """``sealing = Sealing()`` on a service: its transit keys, through the Vault
    client ``confide-serve`` logged in with (``config["VAULT"]``)."""

    def setup(self) -> None:
        self.sealers = sealers_from_config(config["VAULT"])

    def get_dependency(self, worker_ctx) -> Sealers:
        return self.sealers
