"""The benchmarks' load loop: every item acted on, a bounded number at once, results in order."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.client import each_in_flight


async def test_every_item_is_acted_on_with_at_most_the_concurrency_at_once():
    in_flight, most = 0, 0

    async def act(n: int) -> int:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.001 * (n % 3))  # items finish out of order
        in_flight -= 1
        return n * n

    assert await each_in_flight(range(50), 7, act) == [n * n for n in range(50)]
    assert most == 7
    assert await each_in_flight([], 7, act) == []


async def test_the_first_failure_stops_the_rest():
    started: list[int] = []

    async def act(n: int) -> None:
        started.append(n)
        if n == 3:
            raise ValueError("item 3")
        await asyncio.sleep(0.01)

    with pytest.raises(ExceptionGroup) as raised:
        await each_in_flight(range(1000), 4, act)
    assert raised.group_contains(ValueError, match="item 3")
    assert len(started) < 20, "the other workers were cancelled, not left to take every item"
