"""A served process freezes what it made while starting (``confide_runtime.heap``):
its full collections no longer walk those objects, and start-up's garbage is
freed first rather than frozen for good."""

import gc
import weakref

import pytest
from confide_runtime.heap import freeze_startup_objects

pytestmark = pytest.mark.unit


class Node:
    pass


def tracked(obj) -> bool:
    """Whether ``obj`` is in one of the collector's generations (frozen objects are in none)."""
    return any(o is obj for o in gc.get_objects())


def test_start_up_objects_are_frozen_and_start_ups_garbage_is_freed_first():
    kept = Node()
    kept.me = kept  # a cycle still in use: only a full pass could look at it
    garbage = Node()
    garbage.me = garbage
    gone = weakref.ref(garbage)
    del garbage
    try:
        frozen = freeze_startup_objects()
        assert gone() is None, "start-up's garbage was frozen, never to be freed"
        assert frozen == gc.get_freeze_count() > 0
        assert not tracked(kept)
        later = Node()
        later.me = later
        assert tracked(later)  # what the process makes afterwards is collected as before
    finally:
        gc.unfreeze()
