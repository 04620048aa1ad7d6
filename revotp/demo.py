"""``revotp demo``: the whole pipeline with a demo tenant, and what to type to try it."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import msgspec

from common.bootstrap import first_api_key
from common.settings import Settings

DEMO_TENANT = "demo"
DEMO_API_KEY = "demo-key-not-for-production"
DEMO_GENERIC_SECRET = "demo-webhook-secret"  # noqa: S105 - published on purpose, demo only
DEMO_PHONE = "+33612345678"


def settings(base: Settings) -> Settings:
    """Add the demo tenant and webhook secret unless the environment already sets them."""
    env = dict(base.env)
    env.setdefault("REVOTP_GENERIC_SECRET", DEMO_GENERIC_SECRET)
    tenants = base.bootstrap_tenants or (f"{DEMO_TENANT}:{DEMO_API_KEY}",)
    return msgspec.structs.replace(base, env=env, bootstrap_tenants=tenants, demo=True)


def print_instructions(settings: Settings) -> None:
    """What to type, each command complete: it works as printed in a new terminal, where none
    of the demo's settings (ports, webhook secret) are set."""
    api_key = first_api_key(settings.bootstrap_tenants)
    ingest = settings.local_url(settings.ingest_port)
    notifier = settings.local_url(settings.notifier_port)
    number = settings.virtual_numbers[0]
    secret = settings.provider_option("generic", "secret")
    revotp = shlex.quote(str(_revotp_command()))
    print(
        f"""
revotp demo — ingest {ingest}, notifier {notifier.replace("http", "ws", 1)}

In a browser: {settings.page_base_url}/demo  (a phone number, its challenge's page, and a
"simulate the SMS" panel: a verification without a phone or a provider)

Or by hand:

1. Watch the demo tenant's verdicts (another terminal):
   {revotp} watch --url {notifier} --api-key {api_key}

2. Create a challenge:
   curl -s {ingest}/v1/challenges -H 'Authorization: Bearer {api_key}' \\
        -H 'Content-Type: application/json' -d '{{"phone": "{DEMO_PHONE}"}}'

3. Send its code by "SMS" from that phone (a signed generic webhook):
   REVOTP_GENERIC_SECRET={secret} {revotp} sms --url {ingest} --from {DEMO_PHONE} --to {number} --text 'CODE'
   or with curl:
   ts=$(date +%s); body='{{"id":"msg-1","from":"{DEMO_PHONE}","to":"{number}","text":"CODE"}}'
   sig=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac {secret} | sed 's/^.* //')
   curl -s {ingest}/v1/inbound/generic -H 'Content-Type: application/json' \\
        -H "X-Revotp-Timestamp: $ts" -H "X-Revotp-Signature: v1=$sig" -d "$body"

The watch terminal prints challenge.verified. Ctrl-C stops the demo.
""",
        flush=True,
    )


def _revotp_command() -> Path:
    """This installation's ``revotp``, by its full path: a new terminal has no virtualenv active."""
    beside = Path(sys.executable).with_name("revotp")
    return beside if beside.exists() else Path("revotp")
