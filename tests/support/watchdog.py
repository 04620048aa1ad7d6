"""When a test is about to hit its timeout, print what each asyncio task is waiting on.

pytest-timeout shows the threads' stacks, and a hung asyncio test shows only its event loop
waiting in ``select``: it cannot say which fixture's teardown, or which await, never returned.
This watchdog fires a little before the timeout, on the test's own loop, and prints every
pending task's stack, so a hang that happens once in CI names its await.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import types
from collections.abc import AsyncIterator, Iterator

import pytest

SHARE_OF_TIMEOUT = 0.9  # fires before pytest-timeout does


def _dump_tasks(test: str) -> None:
    tasks = [task for task in asyncio.all_tasks() if not task.done()]
    print(f"\n--- {test}: {len(tasks)} asyncio tasks pending near the timeout ---", file=sys.stderr)
    for task in tasks:
        print(f"{task.get_name()}:", *_awaiting(task.get_coro()), sep="\n  ", file=sys.stderr)
    # A fixture's teardown runs inside an async generator, which a task's await chain does not
    # reach: the generators suspended in an await are found and shown apart.
    for generator in gc.get_objects():
        if isinstance(generator, types.AsyncGeneratorType) and generator.ag_await is not None:
            print("async generator:", *_awaiting(generator), sep="\n  ", file=sys.stderr)


def _awaiting(awaitable: object) -> Iterator[str]:
    """Each frame of an await chain, outermost first, as ``file:line in function``."""
    while awaitable is not None:
        frame = next(
            (getattr(awaitable, a) for a in ("cr_frame", "ag_frame", "gi_frame") if getattr(awaitable, a, None)), None
        )
        if frame is not None:
            yield f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        awaitable = next(
            (getattr(awaitable, a) for a in ("cr_await", "ag_await", "gi_yieldfrom") if getattr(awaitable, a, None)),
            None,
        )


def _timeout_of(request: pytest.FixtureRequest) -> float:
    marker = request.node.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    return float(request.config.getini("timeout") or 0)


@pytest.fixture(autouse=True)
async def asyncio_watchdog(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Autouse in the suites that run asyncio fixtures against real services."""
    timeout = _timeout_of(request)
    handle = (
        asyncio.get_running_loop().call_later(timeout * SHARE_OF_TIMEOUT, _dump_tasks, request.node.nodeid)
        if timeout
        else None
    )
    yield
    if handle is not None:
        handle.cancel()
