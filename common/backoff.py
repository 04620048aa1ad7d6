"""The one pause between tries of every retry loop: exponential, capped, jittered.

Redis and RabbitMQ come back at one instant for every process that waits on them; the jitter
(each pause drawn between half and all of its exponential value) spreads their reconnects.
"""

from __future__ import annotations

import random


class Backoff:
    """Pauses of ``first_s``, doubling up to ``max_s``; ``reset`` after a success."""

    def __init__(self, *, first_s: float, max_s: float) -> None:
        if not 0 < first_s <= max_s:
            raise ValueError("a backoff needs 0 < first_s <= max_s")
        self._first_s = first_s
        self._max_s = max_s
        self._next_s = first_s

    def reset(self) -> None:
        self._next_s = self._first_s

    def next_delay(self) -> float:
        """The pause to take now; the one after it is twice as long, up to ``max_s``."""
        ceiling = self._next_s
        self._next_s = min(self._next_s * 2, self._max_s)
        return random.uniform(ceiling / 2, ceiling)
