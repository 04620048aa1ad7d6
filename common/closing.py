"""Each step of a stop under its own deadline: with the broker or Redis gone, a stop still ends."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import structlog

log = structlog.get_logger(__name__)

# How long one closing step may take before the stop moves on without it.
CLOSE_STEP_TIMEOUT_S = 5.0


async def bounded(step: Awaitable[object], what: str, *, timeout_s: float = CLOSE_STEP_TIMEOUT_S) -> bool:
    """Await one closing step; False (and a warning) when it failed or overran its deadline."""
    try:
        async with asyncio.timeout(timeout_s):
            await step
    except Exception as exc:  # noqa: BLE001 - a dead broker or Redis must not stop the stop
        log.warning("close_step_failed", step=what, error=type(exc).__name__)
        return False
    return True
