"""Phone numbers read with ``phonenumbers`` and written E.164, the only form stored or compared."""

from __future__ import annotations

import phonenumbers


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
    """
    number = to_e164(raw, region)
    if number is None and raw.isdigit():
        number = to_e164("+" + raw, None)
    return number
