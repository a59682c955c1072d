"""Clinical text goes through Vault transit before it reaches the database, and
comes back only through it: the database holds ``vault:vN:...`` ciphertext."""

from __future__ import annotations

import logging

from confide_contracts.errors import UndecryptableRecord
from confide_vault import Transit, VaultError
from nameko import config
from nameko.extensions import DependencyProvider

NOTES_KEY = "record-notes"
PSYCHOTHERAPY_KEY = "psychotherapy-notes"

log = logging.getLogger(__name__)


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
        return self.open_many([ciphertext])[0]

    def open_many(self, ciphertexts: list[str]) -> list[str]:
        """The texts; :class:`UndecryptableRecord` (and an alert) if Vault cannot
        decrypt one -- its key lost with a Vault that did not keep its storage, or
        the ciphertext changed in the database."""
        try:
            return [p.decode() for p in self.transit.decrypt_batch(self.key, ciphertexts)]
        except VaultError as exc:
            versions = sorted({c.split(":")[1] for c in ciphertexts if c.count(":") >= 2})
            log.critical("ALERT record-undecryptable: Vault cannot decrypt text sealed with %s %s (%s); "
                         "restore the transit keys that were backed up with this database", self.key,
                         ", ".join(versions), exc)
            raise UndecryptableRecord(
                "stored text cannot be decrypted: its key is not in Vault; operators have been alerted") from None


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
