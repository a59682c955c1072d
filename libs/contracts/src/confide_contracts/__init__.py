"""Event schemas shared between services: a producer and its consumers import the
same module, so both validate against one definition (DESIGN.md, Events).

Importing this package registers every schema in ``confide_events.registry``.
A service's events that no other service consumes stay in the service
(``audit.checkpoint.signed``); access events live in ``confide_access``.
"""

from confide_contracts import billing, credentialing, records, scheduling

__all__ = ["billing", "credentialing", "records", "scheduling"]
