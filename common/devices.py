"""Devices enrolled for device-bound codes (docs/api.md, Device-bound codes).

A platform whose app runs on the user's phone enrolls it once: revotp makes a TOTP secret
(RFC 6238: 6 digits, 30 s, SHA-1, as authenticator apps expect), shows it once as an
``otpauth://`` URI for the app, and keeps it only sealed with the keyring. A challenge for the
device then verifies when the user sends, from the enrolled phone, the code the app shows: the
app's secret and the SIM together, so a SIM swap alone or a copied app alone is not enough.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from urllib.parse import quote, urlencode

import msgspec
import pyotp

from common.challenges import MAX_TTL_S
from common.keyring import Keyring
from common.names import Names
from common.redis import RedisClient, binary, text
from common.store import ROUTES_SCRIPT

DIGITS = 6
PERIOD_S = 30
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation
MAX_LABEL = 100


class DeviceRecord(msgspec.Struct, frozen=True, array_like=True):
    phone: str
    label: str | None
    created_at: int  # ms
    sealed_secret: bytes


class Device(msgspec.Struct, frozen=True, kw_only=True):
    """What the tenant API shows of a device: never its secret."""

    id: str
    phone: str
    label: str | None
    created_at: int


class Enrolled(msgspec.Struct, frozen=True, kw_only=True):
    device: Device
    otpauth_uri: str  # holds the secret: shown once, at enrolment


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(DeviceRecord)


def new_device_id() -> str:
    return "dev_" + base64.b32encode(secrets.token_bytes(15)).decode().lower()


def otpauth_uri(tenant_id: str, phone: str, secret_b32: str) -> str:
    """The provisioning URI authenticator apps read (Key URI Format), every parameter spelled out."""
    label = quote(f"{tenant_id}:{phone}", safe=":+")
    query = urlencode(
        {"secret": secret_b32, "issuer": tenant_id, "digits": DIGITS, "period": PERIOD_S, "algorithm": "SHA1"}
    )
    return f"otpauth://totp/{label}?{query}"


class DeviceRegistry:
    def __init__(self, redis: RedisClient, names: Names, keyring: Keyring) -> None:
        self._redis = redis
        self._names = names
        self._keyring = keyring
        # A phone's device list changes member by member, concurrently: the routes' own step.
        self._members = redis.register_script(ROUTES_SCRIPT)

    async def enroll(self, tenant_id: str, phone: str, label: str | None, now_ms: int) -> Enrolled:
        device_id = new_device_id()
        secret = secrets.token_bytes(SECRET_BYTES)
        record = DeviceRecord(phone, label, now_ms, self._keyring.seal(secret, _context(tenant_id, device_id)))
        await self._redis.hset(self._names.devices(tenant_id), device_id, _encoder.encode(record))
        await self._members(keys=[self._names.device_phones(tenant_id)], args=["join", phone, device_id])
        secret_b32 = base64.b32encode(secret).decode()
        device = Device(id=device_id, phone=phone, label=label, created_at=now_ms)
        return Enrolled(device=device, otpauth_uri=otpauth_uri(tenant_id, phone, secret_b32))

    async def get(self, tenant_id: str, device_id: str) -> Device | None:
        record = await self._record(tenant_id, device_id)
        if record is None:
            return None
        return Device(id=device_id, phone=record.phone, label=record.label, created_at=record.created_at)

    async def remove(self, tenant_id: str, device_id: str) -> Device | None:
        """Forget the device and its secret; its codes verify nothing from now on."""
        device = await self.get(tenant_id, device_id)
        if device is None:
            return None
        await self._redis.hdel(self._names.devices(tenant_id), device_id)
        await self._members(keys=[self._names.device_phones(tenant_id)], args=["leave", device.phone, device_id])
        return device

    async def steps(self, tenant_id: str, device_id: str, codes: list[str], accepted_at_ms: int) -> dict[str, int]:
        """code → the time step whose TOTP it is, for each of ``codes`` that is the device's
        code of the step of the SMS's acceptance or of one step either side (RFC 6238 §5.2)."""
        record = await self._record(tenant_id, device_id)
        if record is None:
            return {}
        secret = self._keyring.unseal(record.sealed_secret, _context(tenant_id, device_id))
        totp = pyotp.TOTP(base64.b32encode(secret).decode(), digits=DIGITS, interval=PERIOD_S)
        now_step = accepted_at_ms // 1000 // PERIOD_S
        expected = {step: totp.generate_otp(step) for step in (now_step, now_step - 1, now_step + 1)}
        found: dict[str, int] = {}
        for code in codes:
            for step, otp in expected.items():
                if hmac.compare_digest(otp, code):
                    found.setdefault(code, step)
        return found

    async def opened(self, tenant_id: str, device_id: str, challenge_id: str) -> None:
        """Remember a challenge opened for the device, to cancel it with the device. The set
        lives as long as the longest challenge could from now, so it outlives all it holds."""
        key = self._names.device_challenges(tenant_id, device_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sadd(key, challenge_id)
            pipe.expire(key, MAX_TTL_S + 60)
            await pipe.execute()

    async def opened_for(self, tenant_id: str, device_id: str) -> list[str]:
        return sorted(
            text(member) for member in await self._redis.smembers(self._names.device_challenges(tenant_id, device_id))
        )

    async def of_phone(self, tenant_id: str, phone: str) -> list[str]:
        listed = await self._redis.hget(self._names.device_phones(tenant_id), phone)
        return text(listed).split() if listed else []

    async def _record(self, tenant_id: str, device_id: str) -> DeviceRecord | None:
        raw = await self._redis.hget(self._names.devices(tenant_id), device_id)
        return _decoder.decode(binary(raw)) if raw else None


def _context(tenant_id: str, device_id: str) -> str:
    return f"device\x1f{tenant_id}\x1f{device_id}"
