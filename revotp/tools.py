"""Small hands-on tools: tenants, receipt keys, a signed SMS, a tenant's events."""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Sequence

import aiohttp
import msgspec

from common.names import Names
from common.receipts import published_keys
from common.redis import connect_redis
from common.settings import Settings
from common.signing import sign
from common.tenants import TenantError, TenantRegistry


def add_arguments(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sms = commands.add_parser("sms", help="post one signed SMS to the generic webhook")
    sms.add_argument("--from", dest="sender", required=True, help="the phone that sends it")
    sms.add_argument("--text", required=True)
    sms.add_argument("--to", help="virtual number (default: the first configured)")
    sms.add_argument("--id", help="provider message id (default: random)")
    sms.add_argument("--url", help="ingest base URL (default: from REVOTP_HOST and REVOTP_INGEST_PORT)")
    receipt_keys = commands.add_parser("receipt-keys", help="the public keys that check receipts (the JWKS)")
    key_actions = receipt_keys.add_subparsers(dest="action", required=True)
    key_actions.add_parser("list", help="one JWK per line")
    forget = key_actions.add_parser(
        "forget", help="stop publishing a key: receipts it signed no longer verify against the JWKS"
    )
    forget.add_argument("kid")
    watch = commands.add_parser("watch", help="print a tenant's events as they arrive")
    watch.add_argument("--api-key", required=True)
    watch.add_argument("--after", help="resume after this cursor")
    watch.add_argument("--url", help="notifier base URL (default: from REVOTP_HOST and REVOTP_NOTIFIER_PORT)")


def key_id_is_no_option(argv: Sequence[str]) -> list[str]:
    """``receipt-keys forget KID`` with KID as given. A key id is base64url, and one in 64 begins
    with '-', which argparse would read as an option: such a KID is marked as a plain word."""
    words = list(argv)
    if words[:2] != ["receipt-keys", "forget"] or len(words) != 3:
        return words
    kid = words[2]
    return [*words[:2], "--", kid] if kid.startswith("-") and kid not in ("-h", "--help", "--") else words


async def manage_receipt_keys(settings: Settings, args: argparse.Namespace) -> int:
    """``revotp receipt-keys list | forget KID``: the keys the JWKS publishes for receipts."""
    names = Names(settings.namespace)
    redis = await connect_redis(settings.redis_url, cluster=settings.redis_cluster, attempts=3)
    try:
        if args.action == "list":
            for jwk in (await published_keys(redis, names))["keys"]:
                print(json.dumps(jwk))
            return 0
        if not await redis.hdel(names.receipt_keys, args.kid):
            print(json.dumps({"error": {"code": "not_found", "message": f"no key {args.kid}"}}), file=sys.stderr)
            return 1
        print(json.dumps({"forgotten": args.kid}))
        return 0
    finally:
        await redis.aclose()


async def manage_tenant(settings: Settings, args: argparse.Namespace) -> int:
    """``revotp tenant …``: one JSON line per result on stdout, a JSON error on stderr."""
    redis = await connect_redis(settings.redis_url, cluster=settings.redis_cluster, attempts=3)
    registry = TenantRegistry(redis, Names(settings.namespace))
    try:
        if args.action == "create":
            created = await registry.create(args.name)
            print(json.dumps({"tenant_id": args.name, **msgspec.structs.asdict(created)}))
        elif args.action == "list":
            for tenant in await registry.list_all():
                print(msgspec.json.encode(tenant).decode())
        elif args.action == "rotate-key":
            api_key = await registry.rotate_key(args.tenant_id, grace_ms=max(args.grace_s, 0) * 1000)
            print(json.dumps({"tenant_id": args.tenant_id, "api_key": api_key}))
        elif args.action == "rotate-callback-secret":
            secret = await registry.rotate_callback_secret(args.tenant_id)
            print(json.dumps({"tenant_id": args.tenant_id, "callback_secret": secret}))
        elif args.action == "revoke-key":
            await registry.revoke_key(args.tenant_id, args.key_id)
            print(json.dumps({"tenant_id": args.tenant_id, "revoked": args.key_id}))
        else:
            numbers = await registry.set_numbers(args.tenant_id, args.numbers, shared_pool=settings.virtual_numbers)
            print(json.dumps({"tenant_id": args.tenant_id, "virtual_numbers": numbers}))
    except TenantError as exc:
        print(json.dumps({"error": {"code": "tenant_error", "message": str(exc)}}), file=sys.stderr)
        return 1
    finally:
        await redis.aclose()
    return 0


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "sms":
        return await send_sms(settings, args)
    return await watch(settings, args)


async def send_sms(settings: Settings, args: argparse.Namespace) -> int:
    secret = settings.provider_option("generic", "secret")
    body = json.dumps(
        {
            "id": args.id or f"cli-{uuid.uuid4().hex[:12]}",
            "from": args.sender,
            "to": args.to or settings.virtual_numbers[0],
            "text": args.text,
        }
    ).encode()
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json", "X-Revotp-Timestamp": str(timestamp)}
    if secret:
        headers["X-Revotp-Signature"] = sign(secret, timestamp, body)
    url = (args.url or settings.local_url(settings.ingest_port)).rstrip("/") + "/v1/inbound/generic"
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        answer = await response.text()
        if response.status >= 300:
            return refused("sms", response.status, answer)
        print(response.status, answer)
        return 0


async def watch(settings: Settings, args: argparse.Namespace) -> int:
    base = args.url or settings.local_url(settings.notifier_port)
    params = {"after": args.after} if args.after else {}
    headers = {"Authorization": f"Bearer {args.api_key}"}
    url = base.rstrip("/") + "/v1/events"
    async with aiohttp.ClientSession() as session:
        try:
            ws = await session.ws_connect(url, params=params, headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            return refused("watch", exc.status, "the API key was not accepted" if exc.status == 401 else exc.message)
        async with ws:
            async for message in ws:
                print(message.data, flush=True)
    return 0


def refused(tool: str, status: int, answer: str) -> int:
    """One line on stderr for a request the server refused: its status and its error's message."""
    try:
        message = json.loads(answer)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = answer.strip()[:200]
    print(f"revotp {tool}: refused with {status}: {message}", file=sys.stderr)
    return 1
