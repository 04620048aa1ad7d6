"""``sms:`` links: one tap opens the phone's messaging app, our number and the code filled in.

Three ways of writing the body are in use (README, "The sms: link"):

- RFC 5724, ``sms:+15550100000?body=483920``: the standard; Android's messaging apps read it.
- ``sms:+15550100000&body=483920``: what iOS 8 and later read (Apple documents no body at all).
- ``sms:+15550100000?&body=483920``: both. Android reads a query whose first parameter is empty,
  iOS reads the body from the ``&``. The QR code uses this form, since it cannot know which
  phone will read it; the verify page picks by user agent, and the create response's
  ``sms_uri`` keeps the standard form.

The body is UTF-8, percent-encoded with nothing left safe (RFC 5724 §2.2): a raw ``&`` would end
the body early, ``#`` would start a fragment, ``+`` would become a space in some parsers.
"""

from __future__ import annotations

import enum
import re
from urllib.parse import quote

_IOS = re.compile(r"\b(iPhone|iPad|iPod)\b")
_ANDROID = re.compile(r"\bAndroid\b")


class Platform(enum.Enum):
    IOS = "ios"
    ANDROID = "android"
    ANY = "any"  # a desktop (the QR code), or a phone not recognised


def platform_of(user_agent: str) -> Platform:
    if _IOS.search(user_agent):
        return Platform.IOS
    if _ANDROID.search(user_agent):
        return Platform.ANDROID
    return Platform.ANY


_BODY_SEPARATOR = {Platform.IOS: "&", Platform.ANDROID: "?", Platform.ANY: "?&"}


def sms_link(number: str, body: str, platform: Platform = Platform.ANY) -> str:
    """The link that opens a new SMS to ``number`` (E.164) with ``body`` filled in."""
    return f"sms:{number}{_BODY_SEPARATOR[platform]}body={quote(body, safe='')}"


def sms_body(code: str, context: str | None = None) -> str:
    """What the user sends: the code first, where the matcher finds it at once, then what
    they approve, when the tenant wants it shown (``context_in_sms``)."""
    return f"{code} {context}" if context else code
