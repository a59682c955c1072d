"""Dynamic PostgreSQL credentials from Vault's database secrets engine."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import hvac.exceptions

from confide_vault.client import VaultClient, VaultError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lease:
    username: str
    password: str
    lease_id: str
    duration: int


class DynamicDatabaseCredentials:
    """A database user issued by Vault for ``role`` and kept alive.

    Implements the ``CredentialSource`` of ``confide_persistence``: ``current()``
    gives the user and password of the live lease; ``replace()`` fetches a new
    user (the engine calls it when the server refuses the old one). A renewer
    renews the lease at half its duration; when Vault will not renew it
    (revoked, or past its max TTL) it fetches new credentials and calls the
    ``on_rotate`` callbacks so pools can drop connections of the old user.
    """

    def __init__(self, vault: VaultClient, role: str, mount: str = "database") -> None:
        self.vault = vault
        self.role = role
        self.mount = mount
        self._lock = threading.Lock()
        self._lease: Lease | None = None
        self.on_rotate: list[Callable[[Lease], None]] = []
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _issue(self) -> Lease:
        try:
            result = self.vault.hvac.secrets.database.generate_credentials(self.role, mount_point=self.mount)
        except hvac.exceptions.VaultError as exc:
            raise VaultError(f"cannot issue database credentials for role {self.role!r}: {exc}") from exc
        lease = Lease(
            username=result["data"]["username"],
            password=result["data"]["password"],
            lease_id=result["lease_id"],
            duration=int(result["lease_duration"]),
        )
        log.info("issued database user %s (lease %ss)", lease.username, lease.duration)
        return lease

    @property
    def lease(self) -> Lease:
        with self._lock:
            if self._lease is None:
                self._lease = self._issue()
            return self._lease

    def current(self) -> tuple[str, str]:
        lease = self.lease
        return lease.username, lease.password

    def replace(self) -> tuple[str, str]:
        with self._lock:
            old = self._lease
            self._lease = self._issue()
            new = self._lease
        if old is not None:
            self._revoke_quietly(old)
        for callback in self.on_rotate:
            callback(new)
        return new.username, new.password

    def renew(self) -> int:
        """Renew the lease; returns its new duration. Replaces the credentials if
        Vault refuses to renew."""
        lease = self.lease
        try:
            # (the lease id in the path, so a policy can allow this role's own leases only)
            result = self.vault.hvac.adapter.put(f"/v1/sys/leases/renew/{lease.lease_id}")
            return int(result["lease_duration"])
        except hvac.exceptions.VaultError as exc:
            log.warning("lease of %s not renewable (%s); issuing new credentials", lease.username, exc)
            self.replace()
            return self.lease.duration

    def _revoke_quietly(self, lease: Lease) -> None:
        try:
            self.vault.hvac.adapter.put(f"/v1/sys/leases/revoke/{lease.lease_id}")
        except Exception:  # noqa: BLE001 - already revoked or expired
            log.debug("old lease %s already gone", lease.lease_id)

    def start_renewing(self) -> None:
        if self._renewer is not None:
            return

        def loop() -> None:
            duration = self.lease.duration
            while not self._stop.wait(max(duration / 2, 1)):
                try:
                    duration = self.renew()
                except Exception as exc:  # noqa: BLE001
                    log.warning("database lease renewal failed: %s", exc)
                    duration = 10

        self._renewer = threading.Thread(target=loop, name=f"vault-lease-{self.role}", daemon=True)
        self._renewer.start()

    def close(self, revoke: bool = True) -> None:
        self._stop.set()
        if revoke and self._lease is not None:
            self._revoke_quietly(self._lease)
