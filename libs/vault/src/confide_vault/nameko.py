"""nameko dependency for Vault transit.

Uses the authenticated :class:`VaultClient` that ``confide-serve`` puts in the
config as ``VAULT`` (tests put one there too), so a process logs in once."""

from __future__ import annotations

from nameko import config
from nameko.extensions import DependencyProvider

from confide_vault.client import VaultClient, VaultError
from confide_vault.transit import Transit


class TransitProvider(DependencyProvider):
    def __init__(self, mount_key: str = "TRANSIT_MOUNT") -> None:
        self.mount_key = mount_key
        self.transit: Transit | None = None

    def setup(self) -> None:
        vault = config.get("VAULT")
        if vault is None:
            vault = VaultClient.from_env()
        if not isinstance(vault, VaultClient):
            raise VaultError("config VAULT must be an authenticated VaultClient")
        self.transit = Transit(vault, config.get(self.mount_key, "transit"))

    def get_dependency(self, worker_ctx) -> Transit:
        assert self.transit is not None
        return self.transit
