"""Keeping the load client's own garbage collector out of what it measures.

A plan of thousands of SMS, their results and the verdict frames make a heap of about 100,000
objects, which CPython's full collection walks in 40 to 80 ms on a busy 2-core machine. During
such a pause the client neither sends nor timestamps arriving verdicts, so the pause would be
counted as revotp's latency. What exists when measuring starts is frozen out of the collector's
reach (it lives through the run anyway); collections still run, over what the run allocates.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
