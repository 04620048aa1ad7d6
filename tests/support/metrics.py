"""Reading this process's Prometheus counters in tests (in-process apps share one registry)."""

from __future__ import annotations

from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    """A counter's current value, 0 when it has never been incremented."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def judged_without_challenge_since(before: float) -> bool:
    """Whether a matcher judged an SMS that found no challenge of its sender since ``before``
    (that counter's value then): for tests that wait on an SMS that changes nothing."""
    return sample("revotp_matcher_sms_total", outcome="no_challenge") > before
