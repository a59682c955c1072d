"""Vault (OpenBao in development) through hvac: AppRole login with token renewal,
dynamic PostgreSQL credentials with lease renewal, transit encryption and signing."""

from confide_vault.client import VaultClient, VaultError
from confide_vault.database import DynamicDatabaseCredentials
from confide_vault.transit import Transit

__all__ = ["DynamicDatabaseCredentials", "Transit", "VaultClient", "VaultError"]
