"""Handlers of the tenant API: create, read and cancel challenges (docs/api.md, Tenant API)."""

from __future__ import annotations

import hashlib
import secrets

import msgspec
import structlog
from aiohttp import web

from common.auth import authenticate_tenant
from common.challenge_ids import new_challenge_id
from common.challenges import Challenge, Status
from common.codes import Alphabet, generate_code
from common.devices import DIGITS, Device
from common.messages import TEST_PROVIDER, InboundSms
from common.phones import remember_phone, to_e164
from common.sms_links import sms_body
from common.store import CancelOutcome
from common.verify_page import PageSecret, seal_page_secret, verify_url
from common.web import ApiError, decode_body, json_response, require_content_type
from ingest import keys
from ingest.inbound import publish
from ingest.metrics import CHALLENGES_CREATED
from ingest.schemas import (
    ChallengeView,
    CreateChallenge,
    Created,
    SimulatedSms,
    challenge_view,
    device_challenge_view,
)
from ingest.tenant import checked_callback_url

log = structlog.get_logger(__name__)

_create_decoder = msgspec.json.Decoder(CreateChallenge)
_simulated_decoder = msgspec.json.Decoder(SimulatedSms)


def pick_virtual_number(phone: str, numbers: tuple[str, ...]) -> str:
    """The same user always gets the same number, so it stays one thread on their phone."""
    index = int.from_bytes(hashlib.sha256(phone.encode()).digest()[:8], "big") % len(numbers)
    return numbers[index]


def decode_create(body: bytes) -> CreateChallenge:
    request = decode_body(body, _create_decoder)
    request.check()
    return request


async def create_challenge(request: web.Request) -> web.Response:
    app = request.app
    tenant_id = await authenticate_tenant(request, app[keys.RESOURCES].tenants)
    require_content_type(request, "application/json")
    body = await request.read()
    payload = decode_create(body)
    settings = app[keys.SETTINGS]
    device = await _device_of(request, tenant_id, payload.device_id) if payload.device_id is not None else None
    phone = to_e164(payload.phone, payload.region or settings.default_region, strict=True) if payload.phone else None
    if device is not None:
        if payload.phone is not None and phone != device.phone:
            raise ApiError(422, "phone_not_the_devices", "phone is not the phone the device was enrolled for")
        phone = device.phone
    if phone is None:
        raise ApiError(422, "invalid_phone", "phone is not a valid phone number")
    tenant = await app[keys.RESOURCES].tenants.get(tenant_id)
    numbers = (tenant.virtual_numbers if tenant else ()) or settings.virtual_numbers
    if tenant is not None and not tenant.admits_sender(phone) and phone not in tenant.test_numbers:
        # Its SMS could never verify it (the tenant's allowed_sender_countries): say so now.
        raise ApiError(
            422, "phone_country_not_allowed", "the tenant accepts SMS only from phones of its allowed_sender_countries"
        )
    if payload.callback_url is not None:
        if tenant is None or tenant.callback_secret is None:
            raise ApiError(
                422,
                "callbacks_not_configured",
                "this tenant has no callback secret yet: POST /v1/tenant/callback-secret",
            )
        await checked_callback_url(payload.callback_url, settings)

    async def create() -> bytes:
        created = app[keys.CLOCK]()
        expires_at = created + payload.ttl_seconds * 1000
        challenge = Challenge(
            id=new_challenge_id(expires_at),
            tenant_id=tenant_id,
            phone=phone,
            virtual_number=pick_virtual_number(phone, numbers),
            status=Status.PENDING,
            attempts=0,
            max_attempts=payload.max_attempts,
            # A device's codes are its app's TOTPs: 6 digits.
            code_length=DIGITS if device else payload.code_length,
            alphabet=Alphabet.NUMERIC if device else Alphabet(payload.alphabet),
            created_at=created,
            expires_at=expires_at,
            external_id=payload.external_id,
            context=payload.context,
            test=tenant is not None and phone in tenant.test_numbers,
            callback_url=payload.callback_url,
            device_id=device.id if device else None,
        )
        keyring = app[keys.RESOURCES].keyring
        if device is not None:
            return await _create_for_device(request, challenge)
        code = generate_code(challenge.code_length, challenge.alphabet)
        await app[keys.RESOURCES].store.create(
            challenge, keyring.code_hash(tenant_id, phone, code), keyring.code_tag(challenge.virtual_number, code)
        )
        body = sms_body(code, payload.context if payload.context_in_sms else None)
        token, page = _created(request, challenge, PageSecret(code, body), ttl_s=payload.ttl_seconds)
        created_view = Created(code=code, sms_body=body, verify_url=page)
        return msgspec.json.encode(challenge_view(challenge, watch_token=token, created=created_view))

    idempotency_key = request.headers.get("Idempotency-Key")
    replayed = False
    if idempotency_key is None:
        response_body = await create()
    else:
        response_body, replayed = await app[keys.IDEMPOTENCY].once(
            tenant_id, idempotency_key, body, payload.ttl_seconds * 1000, create
        )
    remember_phone(phone)  # its SMS will name it: ingest need not read the number again
    response = web.Response(status=201, body=response_body, content_type="application/json")
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def _device_of(request: web.Request, tenant_id: str, device_id: str) -> Device:
    device = await request.app[keys.RESOURCES].devices.get(tenant_id, device_id)
    if device is None:
        raise ApiError(422, "device_not_found", "device_id names no device of this tenant")
    return device


async def _create_for_device(request: web.Request, challenge: Challenge) -> bytes:
    """A device-bound challenge: stored with the device's token in place of a code's hash, and
    listed with the device, whose removal cancels it."""
    resources = request.app[keys.RESOURCES]
    keyring, device_id = resources.keyring, challenge.device_id or ""
    await resources.store.create(challenge, keyring.device_token(challenge.tenant_id, challenge.phone, device_id))
    await resources.devices.opened(challenge.tenant_id, device_id, challenge.id)
    # The page shows no code (the app does) and links an SMS with an empty body.
    token, page = _created(request, challenge, PageSecret("", ""), device=True)
    return msgspec.json.encode(device_challenge_view(challenge, watch_token=token, verify_url=page))


def _created(request: web.Request, challenge: Challenge, secret: PageSecret, **logged: object) -> tuple[str, str]:
    """Count and log a stored challenge; its watch token and its verify page's URL."""
    CHALLENGES_CREATED.inc()
    log.info("challenge_created", challenge_id=challenge.id, tenant_id=challenge.tenant_id, **logged)
    keyring = request.app[keys.RESOURCES].keyring
    token = keyring.watch_token(challenge.tenant_id, challenge.id)
    sealed = seal_page_secret(keyring, challenge.tenant_id, challenge.id, secret)
    return token, verify_url(request.app[keys.SETTINGS].page_base_url, challenge.id, watch_token=token, sealed=sealed)


async def _own_challenge(request: web.Request) -> Challenge:
    """The requested challenge if it belongs to the caller; 404 otherwise, never 403."""
    tenant_id = await authenticate_tenant(request, request.app[keys.RESOURCES].tenants)
    challenge_id = request.match_info["challenge_id"]
    challenge = await request.app[keys.RESOURCES].store.get(tenant_id, challenge_id)
    if challenge is None:
        raise ApiError(404, "challenge_not_found", "no such challenge")
    return challenge


def _view(request: web.Request, challenge: Challenge) -> ChallengeView:
    token = request.app[keys.RESOURCES].keyring.watch_token(challenge.tenant_id, challenge.id)
    return challenge_view(challenge, watch_token=token)


async def get_challenge(request: web.Request) -> web.Response:
    return json_response(_view(request, await _own_challenge(request)))


async def cancel_challenge(request: web.Request) -> web.Response:
    challenge = await _own_challenge(request)
    store = request.app[keys.RESOURCES].store
    outcome, status = await store.cancel(challenge, request.app[keys.CLOCK]())
    if outcome is CancelOutcome.MISSING:
        raise ApiError(404, "challenge_not_found", "no such challenge")
    if outcome is CancelOutcome.CONFLICT:
        raise ApiError(409, "challenge_not_pending", f"the challenge is {status} and can no longer be canceled")
    log.info("challenge_canceled", challenge_id=challenge.id, tenant_id=challenge.tenant_id)
    canceled = await store.get(challenge.tenant_id, challenge.id)
    return json_response(_view(request, canceled or challenge))


async def simulate_sms(request: web.Request) -> web.Response:
    """Test mode: the SMS a test challenge's phone would send, judged as any SMS is.

    Only test challenges take it, and they take nothing else: a real SMS never verifies a test
    number, and this call never verifies a real challenge.
    """
    challenge = await _own_challenge(request)
    require_content_type(request, "application/json")
    sms = decode_body(await request.read(), _simulated_decoder)
    if not challenge.test:
        raise ApiError(409, "not_a_test_challenge", "only a challenge for one of the tenant's test numbers takes it")
    message = InboundSms(
        message_id=secrets.token_hex(16),
        provider=TEST_PROVIDER,
        provider_message_id=secrets.token_hex(16),
        sender=challenge.phone,
        recipient=challenge.virtual_number,
        sender_e164=challenge.phone,
        recipient_e164=challenge.virtual_number,
        text=sms.text,
        accepted_at_ms=request.app[keys.CLOCK](),
    )
    await publish(request, TEST_PROVIDER, [message])
    return web.json_response({"status": "accepted"}, status=202)
