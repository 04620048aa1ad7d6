"""Phone numbers read with ``phonenumbers`` and written E.164, the only form stored or compared."""

from __future__ import annotations

import functools
import re

import phonenumbers

# What a delivered number may look like: an optional '+', ASCII digits, and the punctuation
# people and networks put between them. Anything with a letter, in any script, is an
# alphanumeric sender id ("BANK", "X0612345678"): phonenumbers would skip or keypad-map its
# letters and read a real subscriber's number out of it.
_NUMBER_SHAPE = re.compile(r"\+?[ .()\-]*[0-9][0-9 .()\-]*")


def is_number_shaped(raw: str) -> bool:
    """True when ``raw`` is written as a phone number, not as an alphanumeric sender id."""
    return _NUMBER_SHAPE.fullmatch(raw.strip()) is not None


def to_e164(raw: str, region: str | None, *, strict: bool = False) -> str | None:
    """The E.164 form of ``raw``, or None when it is no phone number.

    ``strict`` asks for a number valid in its numbering plan (a user's phone); without it a
    possible number is enough (senders as carriers deliver them, virtual numbers in test ranges).
    """
    try:
        number = phonenumbers.parse(raw, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return None
    ok = phonenumbers.is_valid_number(number) if strict else phonenumbers.is_possible_number(number)
    if not ok:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def read_delivered_number(raw: str, region: str | None) -> str | None:
    """A number as an SMSC or provider delivered it: national for ``region``, else international.

    Gateways pass numbers on as the network wrote them: ``0612345678`` (national) and
    ``33612345678`` (international without '+') both occur; the national reading wins.
    Anything not shaped like a number (see ``is_number_shaped``) is no number at all.

    Reading one costs about 40 µs. A phone this process just created a challenge for is known
    already (``remember_phone``), and its SMS usually names it in E.164; the rest is cached:
    every SMS names a virtual number, and a user's retries repeat their own number.
    """
    if raw in _phones_known:  # E.164 and valid: any region reads it as itself
        return raw
    return _read_delivered_number(raw, region)


# Phones of challenges created here lately, in E.164 (oldest first, so the oldest goes first).
_phones_known: dict[str, None] = {}
PHONES_KNOWN = 65_536


def remember_phone(e164: str) -> None:
    """Note a phone read valid in E.164 (``to_e164(..., strict=True)``), so that the SMS from it
    is not read again."""
    _phones_known.pop(e164, None)
    _phones_known[e164] = None
    if len(_phones_known) > PHONES_KNOWN:
        del _phones_known[next(iter(_phones_known))]


@functools.lru_cache(maxsize=8192)
def _read_delivered_number(raw: str, region: str | None) -> str | None:
    if not is_number_shaped(raw):
        return None
    number = to_e164(raw, region)
    if number is None and raw.strip().isdigit():
        number = to_e164("+" + raw.strip(), None)
    return number


@functools.lru_cache(maxsize=65_536)
def region_of(e164: str) -> str | None:
    """The ISO region a number in E.164 belongs to (``+33612345678`` → ``FR``), None when unknown."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None


def checked_regions(raw: list[str]) -> tuple[str, ...]:
    """ISO regions as phonenumbers knows them, upper-cased, sorted, once each; ValueError names a bad one."""
    regions = {region.strip().upper() for region in raw}
    unknown = sorted(region for region in regions if region not in phonenumbers.SUPPORTED_REGIONS)
    if unknown:
        raise ValueError(f"not ISO regions with phone numbers: {', '.join(unknown)}")
    return tuple(sorted(regions))
