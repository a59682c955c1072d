"""How Confide services are described, served and run together locally.

Loaded on first use: ``confide-serve`` must let eventlet patch the standard
library before anything (hvac, requests) imports ``ssl``."""

__all__ = ["ServiceManifest", "discover"]


def __getattr__(name: str):
    if name in __all__:
        from confide_runtime import manifest

        return getattr(manifest, name)
    raise AttributeError(f"module 'confide_runtime' has no attribute {name!r}")
