"""Reading this process's Prometheus counters in tests (in-process apps share one registry)."""

from __future__ import annotations

from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    """A counter's current value, 0 when it has never been incremented."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
