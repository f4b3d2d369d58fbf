"""Process memory helpers of the store: frozen long-lived objects, throttled collections."""

from __future__ import annotations

import gc
import weakref

from ticket_audit.store import long_lived_frozen


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_frozen_objects_are_skipped_and_new_garbage_is_still_collected() -> None:
    before = _Node()
    alive = weakref.ref(before)
    with long_lived_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        del before
        gc.collect()
        # Frozen at entry: a full collection does not even look at it.
        assert alive() is not None
        during = weakref.ref(_Node())
        gc.collect()
        assert during() is None
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert alive() is None  # unfrozen at the end: collected as usual
