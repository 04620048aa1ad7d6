"""Group commit: calls that arrive while a round trip is in flight share the next one.

A database's group commit applied to any batched round trip (a Redis pipeline, a publish). The
first call flushes at once, so a lone caller waits for nothing; calls that arrive meanwhile
queue, and when the round trip returns the next flush takes all of them. Batches grow with the
load and never wait on a timer. Each caller gets its own slice of the results, or the error
of the round trip that carried its items.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

Flush = Callable[[list[Item]], Awaitable[Sequence[Result]]]


class GroupCommit(Generic[Item, Result]):
    def __init__(self, flush: Flush[Item, Result], *, max_items: int = 1024) -> None:
        self._flush = flush
        self._max_items = max_items
        self._waiting: list[tuple[Sequence[Item], asyncio.Future[list[Result]]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, items: Sequence[Item]) -> list[Result]:
        """The results of ``items``, in order, from the round trip that carried them."""
        if not items:
            return []
        future: asyncio.Future[list[Result]] = asyncio.get_running_loop().create_future()
        self._waiting.append((items, future))
        if self._runner is None:
            # A context of its own: the flush serves every caller, not the one that started it.
            self._runner = asyncio.create_task(self._run(), context=contextvars.Context())
        return await future

    async def _run(self) -> None:
        try:
            while self._waiting:
                await self._flush_some()
        finally:
            self._runner = None
            for _, future in self._waiting:  # only when this task itself was cancelled
                future.cancel()
            self._waiting.clear()

    async def _flush_some(self) -> None:
        taken, size = 0, 0
        while taken < len(self._waiting) and (taken == 0 or size + len(self._waiting[taken][0]) <= self._max_items):
            size += len(self._waiting[taken][0])
            taken += 1
        group, self._waiting = self._waiting[:taken], self._waiting[taken:]
        live = [(items, future) for items, future in group if not future.done()]  # skip cancelled callers
        if not live:
            return
        try:
            results = list(await self._flush([item for items, _ in live for item in items]))
        except Exception as exc:  # noqa: BLE001 - handed to every caller it was for
            for _, future in live:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:
            for _, future in live:
                future.cancel()
            raise
        start = 0
        for items, future in live:
            if not future.done():
                future.set_result(results[start : start + len(items)])
            start += len(items)
