"""A service describes itself with a :class:`ServiceManifest`, published under the
``confide.services`` entry-point group; `make run`, the Kubernetes manifests and
the test fixtures all read the same description."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from importlib.resources import files
from pathlib import Path
from typing import Any

from confide_vault.bootstrap import ServiceSpec

ENTRY_POINT_GROUP = "confide.services"


@dataclass(frozen=True)
class ServiceManifest:
    name: str
    service: str  # "package.module:Class"
    migrations: str  # "package:folder" holding the service's Alembic scripts
    encryption_keys: tuple[str, ...] = ()
    signing_keys: tuple[str, ...] = ()
    # what the service's database users may do to its tables
    table_privileges: str = "SELECT, INSERT, UPDATE, DELETE"
    extra_grants: dict[str, str] = field(default_factory=dict)  # table -> privileges
    config: dict[str, Any] = field(default_factory=dict)
    # "module:function" taking the local state folder and returning extra
    # environment for the service under `make run` (e.g. the dev issuer's JWKS)
    local_settings: str = ""
    # "module:function" taking the local state folder and a progress printer, run
    # by `make run` once every service has started (the gateway loads the demo)
    on_ready: str = ""
    # "module:function" taking the service's config and returning what the
    # service declares beyond its event handlers' and RPC queues (exchanges,
    # queues, exchange bindings), for the broker definitions
    broker_topology: str = ""

    def local_environment(self, state: Path) -> dict[str, str]:
        if not self.local_settings:
            return {}
        module, _, attr = self.local_settings.partition(":")
        return getattr(importlib.import_module(module), attr)(state)

    def when_ready(self, state: Path, say) -> None:
        if self.on_ready:
            module, _, attr = self.on_ready.partition(":")
            getattr(importlib.import_module(module), attr)(state, say)

    def database(self, prefix: str = "confide") -> str:
        return f"{prefix}_{self.name}"

    def group_role(self, prefix: str = "confide") -> str:
        return f"{prefix}_{self.name}_app"

    def owner_role(self, prefix: str = "confide") -> str:
        return f"{prefix}_{self.name}_owner"

    def vault_spec(self, prefix: str = "confide") -> ServiceSpec:
        return ServiceSpec(
            name=self.name,
            database=self.database(prefix),
            encryption_keys=self.encryption_keys,
            signing_keys=self.signing_keys,
            app_role=self.group_role(prefix),
            owner_role=self.owner_role(prefix),
        )

    def service_class(self) -> type:
        module, _, attr = self.service.partition(":")
        return getattr(importlib.import_module(module), attr)

    def migrations_path(self) -> Path:
        package, _, folder = self.migrations.partition(":")
        return Path(str(files(package).joinpath(folder)))


def discover() -> list[ServiceManifest]:
    """Every installed service, in name order."""
    manifests = [ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)]
    return sorted(manifests, key=lambda m: m.name)


def find(name: str) -> ServiceManifest:
    for manifest in discover():
        if manifest.name == name:
            return manifest
    known = ", ".join(m.name for m in discover()) or "none installed"
    raise SystemExit(f"unknown service {name!r} (known: {known})")
