"""revotp's own signature: HMAC-SHA256 over ``<unix timestamp>.<body>``, sent as ``v1=<hex>``.

The generic inbound webhook is checked with it (``ingest/providers/generic.py``); revotp's
tools, the demo and the tests sign with it (docs/api.md, Webhooks, has a shell example).
"""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Revotp-Signature`` value for a body sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"
