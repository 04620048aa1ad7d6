"""``/healthz``, ``/readyz`` and ``/metrics`` for every process (docs/api.md, Health and metrics)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import prometheus_client
from aiohttp import web

from common.version import VERSION
from common.web import json_response

# A readiness check returns normally when its dependency answers, raises otherwise.
ReadinessCheck = Callable[[], Awaitable[object]]

CHECK_TIMEOUT_S = 2.0


def add_health_routes(
    app: web.Application, checks: Callable[[], Mapping[str, ReadinessCheck]], *, serve_metrics: bool = True
) -> None:
    """Register the routes; ``checks`` is called per request, so it sees late-bound resources.

    ``/metrics`` shows the process's one registry: where several services share a process
    (``revotp all``), only one of them serves it.
    """

    async def healthz(_: web.Request) -> web.Response:
        return json_response({"status": "ok", "version": VERSION})

    async def readyz(_: web.Request) -> web.Response:
        results: dict[str, str] = {}
        for name, check in checks().items():
            try:
                await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the reason is reported
                results[name] = f"down: {type(exc).__name__}"
            else:
                results[name] = "ok"
        ready = all(result == "ok" for result in results.values())
        response = json_response(
            {"status": "ready" if ready else "not_ready", "checks": results}, status=200 if ready else 503
        )
        if not ready:
            response.headers["Retry-After"] = "2"
        return response

    async def metrics(_: web.Request) -> web.Response:
        body = prometheus_client.generate_latest(prometheus_client.REGISTRY)
        return web.Response(body=body, headers={"Content-Type": prometheus_client.CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if serve_metrics:
        app.router.add_get("/metrics", metrics)
