"""Group commit: what arrives during a round trip rides the next one, and each caller gets its own."""

from __future__ import annotations

import asyncio

import pytest

from common.batching import GroupCommit


class Recorder:
    """A flush that doubles its items, after a round trip the test releases."""

    def __init__(self) -> None:
        self.flushes: list[list[int]] = []
        self.gate = asyncio.Event()
        self.fail_on: int | None = None

    async def flush(self, items: list[int]) -> list[int]:
        self.flushes.append(items)
        await self.gate.wait()
        if self.fail_on in items:
            raise ConnectionError("round trip lost")
        return [item * 2 for item in items]


async def test_calls_made_during_a_round_trip_share_the_next_one():
    recorder = Recorder()
    group = GroupCommit(recorder.flush)
    first = asyncio.create_task(group.submit([1]))
    await asyncio.sleep(0)  # the lone first call is flushed at once
    later = [asyncio.create_task(group.submit([n, n + 1])) for n in (10, 20, 30)]
    await asyncio.sleep(0)
    recorder.gate.set()
    assert await first == [2]
    assert [await task for task in later] == [[20, 22], [40, 42], [60, 62]]
    assert recorder.flushes == [[1], [10, 11, 20, 21, 30, 31]]


async def test_an_error_reaches_every_caller_of_its_round_trip_and_no_other():
    recorder = Recorder()
    recorder.fail_on = 2
    group = GroupCommit(recorder.flush)
    doomed = asyncio.create_task(group.submit([1]))
    await asyncio.sleep(0)
    riders = [asyncio.create_task(group.submit([n])) for n in (2, 3)]
    await asyncio.sleep(0)
    recorder.gate.set()
    assert await doomed == [2]
    for rider in riders:
        with pytest.raises(ConnectionError):
            await rider
    assert await group.submit([4]) == [8]


async def test_a_cancelled_caller_is_left_out_and_a_batch_stays_under_its_cap():
    recorder = Recorder()
    group = GroupCommit(recorder.flush, max_items=3)
    first = asyncio.create_task(group.submit([1]))
    await asyncio.sleep(0)
    gone = asyncio.create_task(group.submit([5]))
    kept = [asyncio.create_task(group.submit([n, n])) for n in (6, 7)]
    await asyncio.sleep(0)
    gone.cancel()
    recorder.gate.set()
    await first
    assert [await task for task in kept] == [[12, 12], [14, 14]]
    assert recorder.flushes == [[1], [6, 6], [7, 7]]  # 5 cancelled; 6,6 + 7,7 would exceed 3
    assert await group.submit([]) == []
