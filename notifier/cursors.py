"""Resume cursors of the tenant stream: which are valid, and whether the log still covers them.

A cursor is a Redis stream id, ``<ms>-<seq>``, each part an unsigned 64-bit integer. Before a
socket is upgraded, the cursor is compared with the log's bounds: one past the last id the
log ever generated is refused (it would wait forever for events it already missed), and one
older than the log's first entry, when entries were trimmed away, opens a replay with a gap.
"""

from __future__ import annotations

import re

import msgspec

from common.errors import MalformedInput

ORIGIN = "0-0"  # "I have no cursor yet": the whole retained log, with no gap to report
_CURSOR = re.compile(r"^(\d{1,20})-(\d{1,20})$")
_MAX_PART = 2**64 - 1

Cursor = tuple[int, int]


class LogBounds(msgspec.Struct, frozen=True):
    """What ``XINFO STREAM`` says of a tenant's event log."""

    first: Cursor | None  # the oldest entry still held
    last_generated: Cursor  # the newest id ever written, trimmed or not
    entries_added: int
    length: int

    @property
    def trimmed(self) -> bool:
        return self.entries_added > self.length


EMPTY_LOG = LogBounds(None, (0, 0), 0, 0)


def parse(cursor: str) -> Cursor:
    """``<ms>-<seq>`` as numbers; a 400 for anything else (also past 64 bits)."""
    match = _CURSOR.fullmatch(cursor)
    if match is None or max(int(match[1]), int(match[2])) > _MAX_PART:
        raise MalformedInput("invalid_cursor", "after must be a cursor received in an event, or 0-0 for the whole log")
    return int(match[1]), int(match[2])


def resume_gap(after: str, bounds: LogBounds) -> bool:
    """Whether resuming after ``after`` misses events retention removed; 400 for a future cursor."""
    cursor = parse(after)
    if cursor > bounds.last_generated:
        raise MalformedInput(
            "cursor_in_the_future",
            "after is later than the newest event of this log; resume with a cursor you received, or 0-0",
        )
    if after == ORIGIN or not bounds.trimmed:
        return False
    if bounds.first is None:  # everything was trimmed: whatever came after the cursor is gone
        return cursor < bounds.last_generated
    return cursor < bounds.first
