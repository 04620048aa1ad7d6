"""``revotp``: one command for every process and the operator's chores.

Each subcommand builds settings from the environment, configures logging, and runs.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections.abc import Coroutine, Sequence
from typing import Any, cast

import aiohttp
from aio_pika.exceptions import AMQPError
from redis.exceptions import RedisError

from common import logging as revotp_logging
from common.runtime import ConfigurationCheck, Service, load_settings, run, serve_until_signalled
from revotp import dead_letters, demo, tools
from revotp.replay import arguments as replay_arguments


def _load(service: str) -> tuple[Service, ConfigurationCheck | None]:
    """A service's ``serve`` and its own configuration check, if it has one.

    Its package is imported only now, by the subcommands that run it: `revotp matcher` loads no
    provider adapter, `revotp tenant list` no server at all.
    """
    app = importlib.import_module(f"{service}.app")
    return cast(Service, app.serve), cast(ConfigurationCheck | None, getattr(app, "check_configuration", None))


_SERVICES = {
    "ingest": ["ingest"],
    "matcher": ["matcher"],
    "notifier": ["notifier"],
    "callbacks": ["callbacks"],
    "all": ["ingest", "matcher", "notifier", "callbacks"],
    "demo": ["ingest", "matcher", "notifier", "callbacks"],
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="revotp", description="Reverse-OTP verification pipeline.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ingest", help="tenant API and provider webhooks")
    matcher = commands.add_parser("matcher", help="one matcher worker (run several to scale)")
    matcher.add_argument(
        "--burst", action="store_true", help="judge what is queued now, print how many, and exit (no health port)"
    )
    commands.add_parser("notifier", help="websocket event streams")
    commands.add_parser("callbacks", help="signed callbacks of every event to the tenants' URLs")
    commands.add_parser("all", help="the four services in one process (dev, demo)")
    commands.add_parser("demo", help="`all` with a demo tenant and webhook secret, and how to try it")
    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(dest="action", required=True)
    create = tenant.add_parser("create", help="create a tenant; prints its API key and callback secret once")
    create.add_argument("name")
    tenant.add_parser("list", help="every tenant with its numbers and key ids (never the keys), one JSON line each")
    rotate = tenant.add_parser("rotate-key", help="issue a new API key; the tenant's other keys stop working")
    rotate.add_argument("tenant_id")
    rotate.add_argument(
        "--grace-s", type=int, default=0, help="seconds the old keys keep working (default 0: they stop now)"
    )
    rotate_secret = tenant.add_parser(
        "rotate-callback-secret", help="sign the tenant's callbacks with a new secret from now on; prints it once"
    )
    rotate_secret.add_argument("tenant_id")
    revoke = tenant.add_parser("revoke-key", help="revoke one API key, by the id `tenant list` shows")
    revoke.add_argument("tenant_id")
    revoke.add_argument("key_id")
    numbers = tenant.add_parser(
        "set-numbers", help="give a tenant its own virtual numbers (none: back to the shared pool)"
    )
    numbers.add_argument("tenant_id")
    numbers.add_argument("numbers", nargs="*", help="E.164 numbers, not in REVOTP_VIRTUAL_NUMBERS")
    tools.add_arguments(commands)
    dead_letters.add_arguments(commands)
    commands.add_parser(
        "healthcheck", help="exit 0 when every revotp service listening here is ready (the image's probe)"
    )
    replay_arguments.add_arguments(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(tools.key_id_is_no_option(sys.argv[1:] if argv is None else argv))
    loaded = [_load(name) for name in _SERVICES.get(args.command, [])]
    checks = [check for _, check in loaded if check is not None]
    settings = load_settings(checks, demo.settings if args.command == "demo" else None)
    # A tool says what went wrong in one line of its own; the services' retry logs would bury it.
    quiet = not loaded and args.command != "replay" and "REVOTP_LOG_LEVEL" not in settings.env
    revotp_logging.configure(json=settings.log_json, level="critical" if quiet else settings.log_level)
    if args.command == "matcher" and args.burst:
        from matcher.app import burst

        print(json.dumps({"handled": run_tool(burst(settings))}))
    elif loaded:
        if args.command == "demo":
            demo.print_instructions(settings)
        run(serve_until_signalled(settings, [serve for serve, _ in loaded]))
    elif args.command == "replay":
        from revotp.replay.command import run as replay

        try:
            sys.exit(run_tool(replay(settings, args)))
        except KeyboardInterrupt:
            sys.exit("revotp replay: interrupted; no report")
    elif args.command == "tenant":
        sys.exit(run_tool(tools.manage_tenant(settings, args), args.command))
    elif args.command == "receipt-keys":
        sys.exit(run_tool(tools.manage_receipt_keys(settings, args), args.command))
    elif args.command == "healthcheck":
        from revotp import healthcheck

        sys.exit(healthcheck.run(settings))
    elif args.command == "dead-letters":
        sys.exit(run_tool(dead_letters.run(settings, args), args.command))
    else:
        sys.exit(run_tool(tools.run(settings, args), args.command))


def run_tool(coroutine: Coroutine[Any, Any, int], name: str = "") -> int:
    """Run a tool; a service it cannot reach ends it with one line naming what failed, not a traceback."""
    try:
        return asyncio.run(coroutine)
    except UNREACHABLE as exc:
        sys.exit(f"revotp {name}: {_unreachable(exc)}")


# What a tool raises when RabbitMQ, Redis or a revotp process does not answer.
UNREACHABLE = (OSError, AMQPError, RedisError, aiohttp.ClientError)


def _unreachable(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot reach {exc.host}:{exc.port} ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, RedisError):
        return f"Redis: {exc}"
    if isinstance(exc, AMQPError):
        return f"RabbitMQ: {exc}"
    return f"{type(exc).__name__}: {exc}"


if __name__ == "__main__":
    main()
