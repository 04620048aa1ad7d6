"""``/healthz``, ``/readyz`` and ``/metrics`` for every process (docs/api.md, Health and metrics)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import prometheus_client
from aiohttp import web

from common.metrics import DEPENDENCY_UP, read_all, read_at_scrape
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
    (``revotp all``), only one of them serves it, after every service's scrape-time readers
    ran (``common/metrics.py``), this app's readiness checks among them.
    """

    async def healthz(_: web.Request) -> web.Response:
        return json_response({"status": "ok", "version": VERSION})

    async def readyz(_: web.Request) -> web.Response:
        results = await run_checks(checks())
        ready = all(result == "ok" for result in results.values())
        response = json_response(
            {"status": "ready" if ready else "not_ready", "checks": results}, status=200 if ready else 503
        )
        if not ready:
            response.headers["Retry-After"] = "2"
        return response

    async def dependencies_up() -> None:
        for name, result in (await run_checks(checks())).items():
            DEPENDENCY_UP.labels(name).set(1 if result == "ok" else 0)

    read_at_scrape(app, dependencies_up)

    async def metrics(_: web.Request) -> web.Response:
        await read_all()
        body = prometheus_client.generate_latest(prometheus_client.REGISTRY)
        return web.Response(body=body, headers={"Content-Type": prometheus_client.CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if serve_metrics:
        app.router.add_get("/metrics", metrics)


async def run_checks(checks: Mapping[str, ReadinessCheck]) -> dict[str, str]:
    """Each check's result, side by side: "ok", or "down: <why>"."""

    async def run_one(check: ReadinessCheck) -> str:
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the reason is reported
            return f"down: {type(exc).__name__}"
        return "ok"

    results = await asyncio.gather(*(run_one(check) for check in checks.values()))
    return dict(zip(checks, results, strict=True))
