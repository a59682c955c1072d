"""A served process freezes what it made while starting (``confide_runtime.heap``):
its full collections no longer walk those objects, start-up's garbage is freed
first rather than frozen for good, and what of them becomes garbage later (a
database pool dropped when Vault rotates the user) is freed at the next refreeze."""

import gc
import weakref

import pytest
from confide_runtime.heap import freeze_startup_objects, keep_frozen, refreeze
from confide_testing import wait_until

pytestmark = pytest.mark.unit


class Node:
    pass


def cycle() -> Node:
    node = Node()
    node.me = node  # only the cyclic collector can free it
    return node


def tracked(obj) -> bool:
    """Whether ``obj`` is in one of the collector's generations (frozen objects are in none)."""
    return any(o is obj for o in gc.get_objects())


@pytest.fixture
def thawed_afterwards():
    yield
    gc.unfreeze()


def test_start_up_objects_are_frozen_and_start_ups_garbage_is_freed_first(thawed_afterwards):
    kept = cycle()
    gone = weakref.ref(cycle())
    frozen = freeze_startup_objects()
    assert gone() is None, "start-up's garbage was frozen, never to be freed"
    assert frozen == gc.get_freeze_count() > 0
    assert not tracked(kept)
    later = cycle()
    assert tracked(later)  # what the process makes afterwards is collected as before


def test_a_frozen_object_that_becomes_garbage_is_freed_at_the_next_refreeze(thawed_afterwards):
    pool = cycle()  # made at start-up, like the first database pool
    freeze_startup_objects()
    dropped = weakref.ref(pool)
    del pool  # the engine drops it (Vault rotated the user)
    gc.collect()
    assert dropped() is not None  # frozen: no pass looks at it -- held, with whatever it holds
    assert refreeze() > 0
    assert dropped() is None


def test_the_process_refreezes_on_its_own(thawed_afterwards):
    pool = cycle()
    freeze_startup_objects()
    dropped = weakref.ref(pool)
    del pool
    refreezing = keep_frozen(every=0.05)
    try:
        wait_until(lambda: dropped() is None, timeout=30, what="the dropped object freed")
    finally:
        refreezing.kill()
