"""One tail of each connected tenant's event log per process, fanned out to its sockets.

A socket subscribes before it replays, and the tail starts from the log's last id at that
moment, so every event is either in the replay or in the socket's queue (or both: duplicates
are skipped by cursor). Each queue is bounded; a socket that lets it fill is too slow.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import cast

import structlog
from redis.exceptions import ResponseError

from common.backoff import Backoff
from common.events import Entry, RawEntries, decode_entries
from common.names import Names
from common.redis import TRANSIENT_ERRORS, RedisClient, text
from notifier import cursors
from notifier.cursors import EMPTY_LOG, LogBounds

log = structlog.get_logger(__name__)

READ_COUNT = 500


async def read_range(redis: RedisClient, key: str, after: str, count: int) -> list[Entry]:
    """Entries strictly after the cursor ``after``, oldest first."""
    return decode_entries(await redis.xrange(key, min=f"({after}", max="+", count=count))


async def log_bounds(redis: RedisClient, key: str) -> LogBounds:
    """The event log's first entry, last generated id and counts (an empty log if none yet)."""
    try:
        info = await redis.xinfo_stream(key)
    except ResponseError:  # no such key: the tenant never had an event
        return EMPTY_LOG
    first = info.get("first-entry")
    return LogBounds(
        first=cursors.parse(text(first[0])) if first else None,
        last_generated=cursors.parse(text(info["last-generated-id"])),
        entries_added=int(info["entries-added"]),
        length=int(info["length"]),
    )


async def latest_cursor(redis: RedisClient, key: str) -> str | None:
    newest = decode_entries(await redis.xrevrange(key, count=1))
    return newest[0][0] if newest else None


class Subscription:
    """One socket's bounded mailbox of live entries, and whom to tell when one arrives.

    An idle socket holds no task, no future and no buffer here: the mailbox is created with its
    first entry, and ``on_entry`` starts the socket's sender only when there is something to
    send. With thousands of idle sockets per process, every socket's fixed cost counts.
    """

    __slots__ = ("_entries", "_limit", "on_entry", "on_overflow", "overflowed")

    def __init__(self, limit: int) -> None:
        self._entries: deque[Entry] | None = None
        self._limit = limit
        self.overflowed = False
        self.on_entry: Callable[[], None] = lambda: None
        self.on_overflow: Callable[[], None] = lambda: None  # once, when the mailbox overflows

    def offer(self, entry: Entry) -> None:
        """Queue an entry; past the limit, take no more (a gap must never reach the socket)."""
        if self.overflowed:
            return
        if self._entries is None:
            self._entries = deque()
        if len(self._entries) >= self._limit:
            self.overflowed = True
            self.on_overflow()
            return
        self._entries.append(entry)
        self.on_entry()

    def __len__(self) -> int:
        return len(self._entries) if self._entries else 0

    @property
    def has_entries(self) -> bool:
        return bool(self._entries)

    def take(self) -> Entry | None:
        """The oldest entry not yet taken, or None when there is none."""
        if not self._entries:
            self._entries = None
            return None
        return self._entries.popleft()


class TenantFeed:
    """Tails one tenant's log until told to stop.

    It stops on a flag rather than by cancellation: a cancelled blocking XREAD can be retried
    by redis-py instead of ending when the cancel arrives twice (a handler cancelled while it
    waits for the feed), which would leave the tail running forever.
    """

    def __init__(self, redis: RedisClient, key: str, *, block_ms: int) -> None:
        self._redis = redis
        self._key = key
        # It notices it should stop within one block: kept short so stopping needs no cancellation.
        self._block_ms = block_ms
        self.subscribers: set[Subscription] = set()
        self._stopping = False
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        last = await latest_cursor(self._redis, self._key) or "0-0"
        self.task = asyncio.create_task(self._tail(last), name=f"feed {self._key}")

    def stop(self) -> None:
        """Ask the tail to end; it does within one block."""
        self._stopping = True

    async def _tail(self, last: str) -> None:
        backoff = Backoff(first_s=0.2, max_s=2.0)
        while not self._stopping:
            try:
                reply = await self._redis.xread({self._key: last}, block=self._block_ms, count=READ_COUNT)
            except TRANSIENT_ERRORS as exc:
                delay = backoff.next_delay()
                log.warning("feed_read_failed", key=self._key, error=type(exc).__name__, retry_in_s=delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            for _, entries in cast(list[tuple[bytes, RawEntries]], reply or []):
                for entry in decode_entries(entries):
                    for subscriber in list(self.subscribers):
                        subscriber.offer(entry)
                    last = entry[0]


class Hub:
    def __init__(self, redis: RedisClient, names: Names, *, queue_limit: int, block_ms: int) -> None:
        self._redis = redis
        self._names = names
        self._queue_limit = queue_limit
        self._block_ms = block_ms
        self._feeds: dict[str, TenantFeed] = {}
        self._retiring: set[asyncio.Task[None]] = set()  # stopped tails still finishing a read
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def subscribe(self, tenant_id: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(self._queue_limit)
        async with self._lock:
            feed = self._feeds.get(tenant_id)
            if feed is None:
                feed = TenantFeed(self._redis, self._names.events(tenant_id), block_ms=self._block_ms)
                await feed.start()
                self._feeds[tenant_id] = feed
            feed.subscribers.add(subscription)
        try:
            yield subscription
        finally:
            feed.subscribers.discard(subscription)
            if not feed.subscribers and self._feeds.get(tenant_id) is feed:
                del self._feeds[tenant_id]
                self._retire(feed)

    def queued(self) -> list[int]:
        """Entries waiting in each tenant socket's mailbox."""
        return [len(subscription) for feed in self._feeds.values() for subscription in feed.subscribers]

    def _retire(self, feed: TenantFeed) -> None:
        feed.stop()
        if feed.task is not None and not feed.task.done():
            self._retiring.add(feed.task)
            feed.task.add_done_callback(self._retiring.discard)

    async def close(self) -> None:
        """Stop every tail and wait (bounded) for them to finish their last read."""
        for feed in self._feeds.values():
            self._retire(feed)
        self._feeds = {}
        if self._retiring:
            _, late = await asyncio.wait(set(self._retiring), timeout=self._block_ms / 1000 + 2)
            for task in late:
                task.cancel()
