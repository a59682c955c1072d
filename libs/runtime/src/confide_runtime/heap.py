"""A service's start-up objects, kept out of the collector's full passes.

A service process holds ~160,000 objects once its modules are imported and its
container is up (nameko, kombu, SQLAlchemy, marshmallow, the service's own).
They live as long as the process, but CPython's cyclic collector walks every
one of them on each full (generation 2) collection: ~120 ms here, during which
no green thread of the process runs -- every request in flight waits. Under 50
callers at once a full pass came every ~2,500 round trips and made the p99
(``make bench NAME=rpc``). Frozen once the service has started
(:func:`gc.freeze`, CPython's own tool for long-lived start-up objects), they
are left out of those passes (a full pass: ~120 ms -> ~1 ms); what the
process makes afterwards is collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect what start-up left as garbage (frozen, it would never be freed),
    then freeze the rest; returns the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
