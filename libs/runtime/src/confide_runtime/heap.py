"""A service's start-up objects, kept out of the collector's full passes.

A service process holds ~160,000 objects once its modules are imported and its
container is up (nameko, kombu, SQLAlchemy, marshmallow, the service's own).
Most live as long as the process, but CPython's cyclic collector walks every
one of them on each full (generation 2) collection: ~120 ms here, during which
no green thread of the process runs -- every request in flight waits. Under 50
callers at once a full pass came every ~2,500 round trips and made the p99
(``make bench NAME=rpc``). Frozen once the service has started
(:func:`gc.freeze`, CPython's own tool for long-lived start-up objects), they
are left out of those passes (a full pass: ~120 ms -> ~1 ms); what the
process makes afterwards is collected as before.

A frozen object that later becomes garbage in a reference cycle is not freed
while it is frozen, nor is what it holds: the database pool made at start-up,
say, once Vault rotates the service's database user and the engine drops it
(a pool and its connections refer to each other), with the connections that
were checked out at that moment -- open sessions of a revoked user. So the
process thaws, collects and freezes again every ``REFREEZE_SECONDS``
(:func:`keep_frozen`): one full pass every ten minutes instead of every few
seconds under load, and nothing kept longer than that.
"""

from __future__ import annotations

import gc

import eventlet

REFREEZE_SECONDS = 600.0


def freeze_startup_objects() -> int:
    """Collect what start-up left as garbage (frozen, it would not be freed),
    then freeze the rest; returns the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def refreeze() -> int:
    """Thaw, collect what has become garbage among the frozen, freeze again."""
    gc.unfreeze()
    return freeze_startup_objects()


def keep_frozen(every: float = REFREEZE_SECONDS) -> eventlet.greenthread.GreenThread:
    """A green thread that calls :func:`refreeze` every ``every`` seconds (kill it to stop)."""

    def run() -> None:
        while True:
            eventlet.sleep(every)
            refreeze()

    return eventlet.spawn(run)
