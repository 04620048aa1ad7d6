"""``revotp demo``: the whole pipeline with a demo tenant, and what to type to try it."""

from __future__ import annotations

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
    api_key = first_api_key(settings.bootstrap_tenants)
    ingest = f"http://{settings.host}:{settings.ingest_port}"
    number = settings.virtual_numbers[0]
    print(
        f"""
revotp demo — ingest {ingest}, notifier ws://{settings.host}:{settings.notifier_port}

In a browser: {settings.page_base_url}/demo  (a phone number, its challenge's page, and a
"simulate the SMS" panel: a verification without a phone or a provider)

Or by hand:

1. Watch the demo tenant's verdicts (another terminal):
   .venv/bin/revotp watch --api-key {api_key}

2. Create a challenge:
   curl -s {ingest}/v1/challenges -H 'Authorization: Bearer {api_key}' \\
        -H 'Content-Type: application/json' -d '{{"phone": "{DEMO_PHONE}"}}'

3. Send its code by "SMS" from that phone (a signed generic webhook):
   .venv/bin/revotp sms --from {DEMO_PHONE} --text 'CODE'
   or with curl:
   ts=$(date +%s); body='{{"id":"msg-1","from":"{DEMO_PHONE}","to":"{number}","text":"CODE"}}'
   sig=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac {settings.provider_option("generic", "secret")} | sed 's/^.* //')
   curl -s {ingest}/v1/inbound/generic -H 'Content-Type: application/json' \\
        -H "X-Revotp-Timestamp: $ts" -H "X-Revotp-Signature: v1=$sig" -d "$body"

The watch terminal prints challenge.verified. Ctrl-C stops the demo.
""",
        flush=True,
    )
