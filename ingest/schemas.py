"""The tenant API's request and response bodies (docs/api.md, Tenant API); also the source of the OpenAPI schemas."""

from __future__ import annotations

from typing import Annotated

import msgspec

from common.challenges import MAX_TTL_S, Challenge, Status
from common.clock import iso_ms
from common.codes import MAX_LENGTH, MIN_LENGTH, Alphabet
from common.errors import InvalidInput, MalformedInput
from common.sms_links import Platform, sms_link

# field: (lowest, highest) accepted value
LIMITS = {
    "ttl_seconds": (30, MAX_TTL_S),
    "max_attempts": (1, 10),
    "code_length": (MIN_LENGTH, MAX_LENGTH),
}
MAX_CONTEXT = 200
MAX_EXTERNAL_ID = 128


def _documented_range(field: str) -> msgspec.Meta:
    low, high = LIMITS[field]
    return msgspec.Meta(extra_json_schema={"minimum": low, "maximum": high})


class CreateChallenge(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    phone: Annotated[
        str | None,
        msgspec.Meta(description="the user's phone, any format (optional with device_id)", examples=["+33612345678"]),
    ] = None
    device_id: Annotated[
        str | None,
        msgspec.Meta(description="a device enrolled for the phone: its app's TOTP verifies the challenge"),
    ] = None
    region: Annotated[str | None, msgspec.Meta(description="ISO 3166 region for national formats")] = None
    # Ranges are documented here and checked by check(), which answers 422 naming the field.
    ttl_seconds: Annotated[int, _documented_range("ttl_seconds")] = 120
    max_attempts: Annotated[int, _documented_range("max_attempts")] = 3
    code_length: Annotated[int, _documented_range("code_length")] = 6
    alphabet: Annotated[str, msgspec.Meta(description="numeric or alphanumeric")] = Alphabet.NUMERIC.value
    context: Annotated[str | None, msgspec.Meta(description="shown to the user")] = None
    context_in_sms: Annotated[
        bool,
        msgspec.Meta(description="put the context in the SMS body after the code, so the user sees what they approve"),
    ] = False
    external_id: Annotated[str | None, msgspec.Meta(description="echoed in every event")] = None
    callback_url: Annotated[
        str | None, msgspec.Meta(description="post this challenge's events here, not to the tenant's callback URL")
    ] = None

    def check(self) -> None:
        """Well-formed but out-of-range values answer 422, naming the field."""
        if self.phone is None and self.device_id is None:
            # A shape error, as a missing required field is: 400.
            raise MalformedInput("invalid_body", "Object missing required field `phone` (or `device_id`)")
        for field, (low, high) in LIMITS.items():
            value = getattr(self, field)
            if not low <= value <= high:
                raise InvalidInput(f"invalid_{field}", f"{field} must be between {low} and {high}")
        if self.alphabet not in Alphabet.__members__.values():
            raise InvalidInput("invalid_alphabet", "alphabet must be 'numeric' or 'alphanumeric'")
        if self.region is not None and not (len(self.region) == 2 and self.region.isalpha()):
            raise InvalidInput("invalid_region", "region must be a two-letter ISO 3166 code")
        if self.context is not None and len(self.context) > MAX_CONTEXT:
            raise InvalidInput("invalid_context", f"context must be at most {MAX_CONTEXT} characters")
        if self.external_id is not None and len(self.external_id) > MAX_EXTERNAL_ID:
            raise InvalidInput("invalid_external_id", f"external_id must be at most {MAX_EXTERNAL_ID} characters")


class SimulatedSms(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Test mode: the text a test challenge's phone "sends" (``POST /v1/challenges/{id}/simulate-sms``)."""

    text: Annotated[str, msgspec.Meta(max_length=480)]


class ChallengeView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A challenge as the tenant sees it; ``code``, ``sms_body``, ``sms_uri`` and ``verify_url``
    only on create."""

    id: str
    status: Status
    phone: str
    virtual_number: str
    created_at: str
    expires_at: str
    attempts: int
    max_attempts: int
    external_id: str | None
    context: str | None
    watch_token: str
    code: str | msgspec.UnsetType = msgspec.UNSET
    sms_body: str | msgspec.UnsetType = msgspec.UNSET
    sms_uri: str | msgspec.UnsetType = msgspec.UNSET
    verify_url: str | msgspec.UnsetType = msgspec.UNSET
    test: bool = False  # shown only when true: a test challenge (test mode)
    verified_at: str | msgspec.UnsetType = msgspec.UNSET
    device_id: str | msgspec.UnsetType = msgspec.UNSET  # a device-bound challenge


class Created(msgspec.Struct, frozen=True):
    """What only the create response shows: the code, what to send, and the page that helps."""

    code: str
    sms_body: str
    verify_url: str


def challenge_view(challenge: Challenge, *, watch_token: str, created: Created | None = None) -> ChallengeView:
    with_code: dict[str, str] = {}
    if created is not None:
        with_code = {
            "code": created.code,
            "sms_body": created.sms_body,
            # The standard form, as the contract shows it; the verify page gives each phone its own.
            "sms_uri": sms_link(challenge.virtual_number, created.sms_body, Platform.ANDROID),
            "verify_url": created.verify_url,
        }
    return ChallengeView(
        id=challenge.id,
        status=challenge.status,
        phone=challenge.phone,
        virtual_number=challenge.virtual_number,
        created_at=iso_ms(challenge.created_at),
        expires_at=iso_ms(challenge.expires_at),
        attempts=challenge.attempts,
        max_attempts=challenge.max_attempts,
        external_id=challenge.external_id,
        context=challenge.context,
        watch_token=watch_token,
        verified_at=iso_ms(challenge.verified_at) if challenge.verified_at is not None else msgspec.UNSET,
        test=challenge.test,
        device_id=challenge.device_id or msgspec.UNSET,
        **with_code,
    )


def device_challenge_view(challenge: Challenge, *, watch_token: str, verify_url: str) -> ChallengeView:
    """The create response of a device-bound challenge: no code (the app shows it), an SMS link
    to the number with an empty body for the app to fill, and a page that says so."""
    view = challenge_view(challenge, watch_token=watch_token)
    sms_uri = sms_link(challenge.virtual_number, "", Platform.ANDROID)
    return msgspec.structs.replace(view, sms_uri=sms_uri, verify_url=verify_url)
