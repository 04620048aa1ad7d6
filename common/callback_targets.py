"""Where a callback may be posted: http(s) to a public address, unless the operator allows more.

A tenant names the URL, and revotp's servers post to it: without a guard, a tenant could make
them reach the cloud metadata service, Redis on loopback or a neighbour on the private
network (server-side request forgery). The URL is checked when it is set, and every address
its host resolves to is checked again at each delivery, by the resolver the connection itself
uses (``GuardedResolver``), so a DNS answer that changes in between cannot slip through.
``REVOTP_CALLBACK_ALLOW_PRIVATE=1`` lifts the address rule (local development and tests).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

MAX_URL_LENGTH = 2048


class RefusedTarget(ValueError):
    """A callback URL or address revotp will not post to; the message says why."""


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL if its form is acceptable (scheme, host, no credentials) and a host written as
    an address is an allowed one (connections to an address skip the resolver); else
    RefusedTarget. No DNS: cheap enough for every delivery."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedTarget(f"the URL must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname  # raises for a bracketed host that is no address
    except ValueError as exc:
        raise RefusedTarget(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise RefusedTarget("the URL must be http(s)://host/…")
    if parts.username or parts.password:
        raise RefusedTarget("the URL must not carry credentials; verify the signature instead")
    try:
        _ = parts.port
    except ValueError:
        raise RefusedTarget("the URL's port is not a number from 0 to 65535") from None
    if _is_address(hostname):
        check_address(hostname, allow_private=allow_private)
    return url


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def check_address(address: str, *, allow_private: bool) -> None:
    """Refuse loopback, private, link-local, multicast and reserved addresses (IPv4 and IPv6)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if allow_private:
        return
    if not ip.is_global or ip.is_multicast:
        raise RefusedTarget(f"{address} is not a public address")


async def check_target(url: str, *, allow_private: bool) -> str:
    """``check_url``, then every address the host resolves to (when a tenant sets it)."""
    check_url(url, allow_private=allow_private)
    host = urlsplit(url).hostname or ""
    if _is_address(host):
        return url
    resolver = GuardedResolver(allow_private=allow_private)
    try:
        await resolver.resolve(host, 0, socket.AF_UNSPEC)
    except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode (an empty label)
        raise RefusedTarget(f"{host} does not resolve: {exc}") from None
    finally:
        await resolver.close()
    return url


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, refusing the connection when any address of the host is disallowed."""

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = DefaultResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            check_address(result["host"], allow_private=self._allow_private)
        return results

    async def close(self) -> None:
        await self._inner.close()
