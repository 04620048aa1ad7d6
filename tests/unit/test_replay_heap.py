"""The load client's collector walks only what a run allocates, never the plan it measures."""

from __future__ import annotations

import gc

from revotp.replay.heap import frozen_heap


def test_what_exists_when_measuring_starts_is_out_of_the_collectors_reach():
    plan = [[n] for n in range(1000)]  # lists: objects the collector tracks
    with frozen_heap():
        walked = {id(obj) for obj in gc.get_objects()}
        assert not any(id(entry) in walked for entry in plan)
        assert gc.get_freeze_count() >= len(plan)
        during = [[n] for n in range(10)]
        assert all(id(entry) in {id(obj) for obj in gc.get_objects()} for entry in during)
    assert gc.get_freeze_count() == 0
    walked = {id(obj) for obj in gc.get_objects()}
    assert all(id(entry) in walked for entry in plan)
