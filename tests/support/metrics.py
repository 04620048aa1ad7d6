"""Reading this process's Prometheus counters in tests (in-process apps share one registry)."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    """A counter's current value, 0 when it has never been incremented."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def grown(name: str, before: float, *, within: float = 10.0, **labels: str) -> float:
    """Wait until a counter exceeds ``before`` (its value when the test acted), up to ``within``
    seconds; its value then. For tests that wait on an SMS whose effect is only counted."""
    for _ in range(int(within / POLL_S)):
        if (value := sample(name, **labels)) > before:
            return value
        await asyncio.sleep(POLL_S)
    return sample(name, **labels)


POLL_S = 0.05
