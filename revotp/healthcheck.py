"""``revotp healthcheck``: the container's health probe, whichever service the container runs.

Every port a revotp service of this configuration listens on must answer ``/readyz`` with 200,
and at least one must listen: a container running ``matcher`` is judged by the matcher's port,
one running ``all`` by all four. Only the standard library: it runs every few seconds.
"""

from __future__ import annotations

import http.client
import sys

from common.settings import Settings

TIMEOUT_S = 2.0


def service_ports(settings: Settings) -> dict[str, int]:
    return {
        "ingest": settings.ingest_port,
        "notifier": settings.notifier_port,
        "matcher": settings.matcher_port,
        "callbacks": settings.callbacks_port,
    }


def probe(host: str, port: int) -> int | None:
    """The status of ``GET /readyz``; None when nothing listens, 0 when it does not answer."""
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status
    except ConnectionRefusedError:
        return None
    except OSError:  # a timeout or a reset: listening, but not ready
        return 0
    finally:
        connection.close()


def run(settings: Settings) -> int:
    statuses = {name: probe(settings.local_host, port) for name, port in service_ports(settings).items()}
    listening = {name: status for name, status in statuses.items() if status is not None}
    if not listening:
        print("revotp healthcheck: no revotp service listens on this machine", file=sys.stderr)
        return 1
    not_ready = sorted(name for name, status in listening.items() if status != 200)
    if not_ready:
        print(f"revotp healthcheck: not ready: {', '.join(not_ready)} (see /readyz)", file=sys.stderr)
        return 1
    return 0
