"""How Confide services are described, served and run together locally."""

from confide_runtime.manifest import ServiceManifest, discover

__all__ = ["ServiceManifest", "discover"]
