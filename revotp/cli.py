"""``revotp``: one command for every process and the operator's chores.

Each subcommand builds settings from the environment, configures logging, and runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from common import logging as revotp_logging
from common.runtime import run, stop_event
from common.settings import Settings, SettingsError, from_env
from revotp import demo, tools

Service = Callable[[Settings, asyncio.Event], Awaitable[None]]


def _services(names: Sequence[str]) -> list[Service]:
    # Imported here so that `revotp tenant create` does not load every server.
    from ingest.app import serve as ingest
    from matcher.app import serve as matcher
    from notifier.app import serve as notifier

    table: dict[str, Service] = {"ingest": ingest, "matcher": matcher, "notifier": notifier}
    return [table[name] for name in names]


async def _serve(settings: Settings, names: Sequence[str]) -> None:
    stop = stop_event()
    await asyncio.gather(*(service(settings, stop) for service in _services(names)))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="revotp", description="Reverse-OTP verification pipeline.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ingest", help="tenant API and provider webhooks")
    commands.add_parser("matcher", help="one matcher worker (run several to scale)")
    commands.add_parser("notifier", help="websocket event streams")
    commands.add_parser("all", help="the three services in one process (dev, demo)")
    commands.add_parser("demo", help="`all` with a demo tenant and webhook secret, and how to try it")
    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(dest="action", required=True)
    create = tenant.add_parser("create", help="create a tenant; prints its API key once")
    create.add_argument("name")
    tenant.add_parser("list", help="every tenant with its numbers and key ids (never the keys), one JSON line each")
    rotate = tenant.add_parser("rotate-key", help="issue a new API key; the tenant's other keys stop working")
    rotate.add_argument("tenant_id")
    rotate.add_argument(
        "--grace-s", type=int, default=0, help="seconds the old keys keep working (default 0: they stop now)"
    )
    revoke = tenant.add_parser("revoke-key", help="revoke one API key, by the id `tenant list` shows")
    revoke.add_argument("tenant_id")
    revoke.add_argument("key_id")
    numbers = tenant.add_parser(
        "set-numbers", help="give a tenant its own virtual numbers (none: back to the shared pool)"
    )
    numbers.add_argument("tenant_id")
    numbers.add_argument("numbers", nargs="*", help="E.164 numbers, not in REVOTP_VIRTUAL_NUMBERS")
    tools.add_arguments(commands)
    return parser


def check_configuration(settings: Settings, services: Sequence[str]) -> None:
    """Every option the given services read, checked before any of them starts.

    ``from_env`` checks the shared settings; the provider adapters check their own options
    (REVOTP_<PROVIDER>_*) when built. Either raises SettingsError naming the variable.
    """
    if "ingest" in services:
        from ingest.providers import build_providers

        build_providers(settings)


_SERVICES = {
    "ingest": ["ingest"],
    "matcher": ["matcher"],
    "notifier": ["notifier"],
    "all": ["ingest", "matcher", "notifier"],
    "demo": ["ingest", "matcher", "notifier"],
}


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = demo.settings(from_env()) if args.command == "demo" else from_env()
        check_configuration(settings, _SERVICES.get(args.command, []))
    except SettingsError as exc:
        sys.exit(f"revotp: {exc}")
    revotp_logging.configure(json=settings.log_json, level=settings.log_level)
    if args.command in _SERVICES:
        if args.command == "demo":
            demo.print_instructions(settings)
        run(_serve(settings, _SERVICES[args.command]))
    elif args.command == "tenant":
        sys.exit(run_tool(tools.manage_tenant(settings, args)))
    else:
        sys.exit(run_tool(tools.run(settings, args)))


def run_tool(coroutine: Coroutine[Any, Any, int]) -> int:
    return asyncio.run(coroutine)


if __name__ == "__main__":
    main()
