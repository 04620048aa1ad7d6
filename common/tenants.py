"""Tenants, their API keys and their own virtual numbers.

API keys are shown once and stored only as digests, in one hash ``digest → key record``. A
record says whose key it is, how it came (``bootstrap`` from ``REVOTP_BOOTSTRAP_TENANTS``, or
``issued`` by ``revotp tenant create|rotate-key``) and, once rotated away, until when it
still works. Records written before keys had kinds are plain tenant ids and read as
bootstrap keys.

A tenant may own virtual numbers (``revotp tenant set-numbers``): its challenges use them
instead of the shared pool, and no other tenant's challenge ever does.

A tenant may list test numbers (``PATCH /v1/tenant``): a challenge for one of them is
a test challenge, which only the tenant API's simulated SMS can verify (test mode).
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable

import msgspec
from redis.exceptions import ResponseError, WatchError

from common.bootstrap import parse_entry
from common.clock import now_ms
from common.keyring import api_key_digest
from common.names import TENANT_ID_PATTERN, Names
from common.phones import checked_regions, region_of, to_e164
from common.pipelining import SharedPipeline
from common.redis import RedisClient, text

# How many hex digits of a key's digest name it in listings and revoke-key: enough to be unique.
KEY_ID_LENGTH = 12


class TenantError(ValueError):
    """A tenant id, key or number the operation cannot use."""


class KeyKind(enum.StrEnum):
    BOOTSTRAP = "bootstrap"
    ISSUED = "issued"


class KeyRecord(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    kind: KeyKind
    created_at: int | None = None
    expires_at: int | None = None  # set when rotated away with a grace period

    def valid_at(self, now: int) -> bool:
        return self.expires_at is None or now < self.expires_at


# Test numbers per tenant: a few for app-store reviewers and integration tests, not a directory.
MAX_TEST_NUMBERS = 20


class TenantRecord(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    created_at: int
    virtual_numbers: tuple[str, ...] = ()
    test_numbers: tuple[str, ...] = ()
    callback_url: str | None = None  # where every event is posted (callbacks/)
    # Signs those posts; made with the tenant (records older than that: by its first callback URL).
    callback_secret: str | None = None
    # ISO regions whose phones may answer this tenant's challenges; empty: all (docs/api.md, Tenant API).
    allowed_sender_countries: tuple[str, ...] = ()

    def admits_sender(self, phone_e164: str) -> bool:
        """Whether a phone may answer this tenant's challenges; its country is read only when
        the tenant restricts countries (reading it is a phone-number parse, on every SMS)."""
        return not self.allowed_sender_countries or region_of(phone_e164) in self.allowed_sender_countries


class NewTenant(msgspec.Struct, frozen=True, kw_only=True):
    """What ``revotp tenant create`` prints once: neither secret can be read back later."""

    api_key: str
    callback_secret: str


class KeyInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A key as listings show it: never the key, only the start of its digest."""

    id: str
    kind: KeyKind
    created_at: int | None
    expires_at: int | None


class TenantInfo(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: str
    created_at: int
    virtual_numbers: tuple[str, ...]
    api_keys: tuple[KeyInfo, ...]


def new_api_key() -> str:
    return "rk_" + secrets.token_urlsafe(32)


def new_callback_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _new_record(tenant_id: str, callback_secret: str) -> bytes:
    return msgspec.json.encode(TenantRecord(name=tenant_id, created_at=now_ms(), callback_secret=callback_secret))


def check_tenant_id(tenant_id: str) -> None:
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise TenantError(f"tenant id {tenant_id!r} must be 1-63 lowercase letters, digits, '-' or '_'")


_key_decoder = msgspec.json.Decoder(KeyRecord)
_tenant_decoder = msgspec.json.Decoder(TenantRecord)


def _key_record(raw: bytes | str) -> KeyRecord:
    value = text(raw)
    if not value.startswith("{"):
        return KeyRecord(tenant=value, kind=KeyKind.BOOTSTRAP)  # written before keys had kinds
    return _key_decoder.decode(value)


class TenantRegistry:
    def __init__(self, redis: RedisClient, names: Names, *, shared: SharedPipeline | None = None) -> None:
        self._redis = redis
        self._names = names
        # Every tenant API request reads its key and its tenant: concurrent ones share round trips.
        self._shared = shared or SharedPipeline(redis)

    async def adopt_untagged_keys(self) -> None:
        """Move the registry from its keys of before the ``{registry}`` hash tag, once.

        Losing them would lock every tenant out (keys are kept only as digests), so an upgrade
        renames them rather than start empty. Such keys only exist on a single Redis server
        (nothing spoke Redis Cluster before the tag), where RENAMENX is atomic; whoever comes
        second finds nothing left to move.
        """
        namespace = self._names.namespace
        for old, new in (
            (f"{namespace}:tenants", self._names.tenants),
            (f"{namespace}:api-keys", self._names.api_keys),
            (f"{namespace}:number-owners", self._names.number_owners),
        ):
            try:
                await self._redis.renamenx(old, new)
            except ResponseError:  # no such key: moved by another process, or never written
                continue

    # --- tenants ---------------------------------------------------------------------------
    async def create(self, tenant_id: str) -> NewTenant:
        """Register a new tenant; its API key and callback secret are returned here only."""
        check_tenant_id(tenant_id)
        secret = new_callback_secret()
        if not await self._redis.hsetnx(self._names.tenants, tenant_id, _new_record(tenant_id, secret)):
            raise TenantError(f"tenant {tenant_id!r} exists already")
        await self._start_callbacks_at("0-0", tenant_id)
        return NewTenant(api_key=await self._issue(tenant_id), callback_secret=secret)

    async def get(self, tenant_id: str) -> TenantRecord | None:
        raw = await self._shared.execute("HGET", self._names.tenants, tenant_id)
        return _tenant_decoder.decode(raw) if raw is not None else None

    async def ids(self) -> list[str]:
        return sorted(text(tenant_id) for tenant_id in await self._redis.hkeys(self._names.tenants))

    async def list_all(self) -> list[TenantInfo]:
        tenants = await self._redis.hgetall(self._names.tenants)
        keys: dict[str, list[KeyInfo]] = {}
        for digest, raw in (await self._redis.hgetall(self._names.api_keys)).items():
            record = _key_record(raw)
            info = KeyInfo(
                id=text(digest)[:KEY_ID_LENGTH],
                kind=record.kind,
                created_at=record.created_at,
                expires_at=record.expires_at,
            )
            keys.setdefault(record.tenant, []).append(info)
        infos = []
        for raw_id, raw_record in sorted(tenants.items()):
            tenant_id, tenant = text(raw_id), _tenant_decoder.decode(raw_record)
            infos.append(
                TenantInfo(
                    tenant_id=tenant_id,
                    created_at=tenant.created_at,
                    virtual_numbers=tenant.virtual_numbers,
                    api_keys=tuple(keys.get(tenant_id, ())),
                )
            )
        return infos

    async def ensure(self, tenant_id: str, api_key: str, callback_secret: str | None = None) -> None:
        """Make sure the tenant exists and accepts this bootstrap key, and no earlier one; and,
        when one is given, that its callbacks are signed with this secret."""
        check_tenant_id(tenant_id)
        created = await self._redis.hsetnx(
            self._names.tenants, tenant_id, _new_record(tenant_id, callback_secret or new_callback_secret())
        )
        if created:
            await self._start_callbacks_at("0-0", tenant_id)
        if callback_secret is not None and not created:
            await self._update(
                tenant_id, lambda record: msgspec.structs.replace(record, callback_secret=callback_secret)
            )
        digest = api_key_digest(api_key)
        earlier = [d for d, key in (await self._keys_of(tenant_id)).items() if key.kind is KeyKind.BOOTSTRAP]
        key = KeyRecord(tenant=tenant_id, kind=KeyKind.BOOTSTRAP, created_at=now_ms())
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._names.api_keys, digest, msgspec.json.encode(key))
            if stale := [d for d in earlier if d != digest]:
                pipe.hdel(self._names.api_keys, *stale)
            await pipe.execute()

    async def bootstrap(self, entries: tuple[str, ...]) -> list[str]:
        """Ensure every ``REVOTP_BOOTSTRAP_TENANTS`` entry; return the tenant ids."""
        tenants = [parse_entry(entry) for entry in entries]
        for tenant in tenants:
            await self.ensure(*tenant)
        return [tenant.tenant_id for tenant in tenants]

    # --- API keys --------------------------------------------------------------------------
    async def authenticate(self, api_key: str) -> str | None:
        """The tenant owning this key, or None (unknown, revoked, or past its grace period)."""
        raw = await self._shared.execute("HGET", self._names.api_keys, api_key_digest(api_key))
        if raw is None:
            return None
        record = _key_record(raw)
        return record.tenant if record.valid_at(now_ms()) else None

    async def rotate_key(self, tenant_id: str, *, grace_ms: int = 0) -> str:
        """Issue a new key; every other key of the tenant stops working after ``grace_ms``."""
        await self._require(tenant_id)
        until = now_ms() + grace_ms
        async with self._redis.pipeline(transaction=True) as pipe:
            for digest, key in (await self._keys_of(tenant_id)).items():
                if grace_ms <= 0:
                    pipe.hdel(self._names.api_keys, digest)
                elif key.expires_at is None or key.expires_at > until:
                    expiring = msgspec.structs.replace(key, expires_at=until)
                    pipe.hset(self._names.api_keys, digest, msgspec.json.encode(expiring))
            await pipe.execute()
        return await self._issue(tenant_id)

    async def revoke_key(self, tenant_id: str, key_id: str) -> None:
        """Revoke the tenant's key whose digest starts with ``key_id`` (as ``list`` shows it)."""
        await self._require(tenant_id)
        matching = [d for d in await self._keys_of(tenant_id) if key_id and d.startswith(key_id)]
        if len(matching) != 1:
            raise TenantError(f"tenant {tenant_id!r} has no key {key_id!r}" if not matching else "ambiguous key id")
        await self._redis.hdel(self._names.api_keys, matching[0])

    async def _issue(self, tenant_id: str) -> str:
        api_key = new_api_key()
        record = KeyRecord(tenant=tenant_id, kind=KeyKind.ISSUED, created_at=now_ms())
        await self._redis.hset(self._names.api_keys, api_key_digest(api_key), msgspec.json.encode(record))
        return api_key

    async def _keys_of(self, tenant_id: str) -> dict[str, KeyRecord]:
        """The tenant's key records by digest (an operator's chore: reads every key)."""
        keys = {}
        for digest, raw in (await self._redis.hgetall(self._names.api_keys)).items():
            record = _key_record(raw)
            if record.tenant == tenant_id:
                keys[text(digest)] = record
        return keys

    async def _require(self, tenant_id: str) -> TenantRecord:
        record = await self.get(tenant_id)
        if record is None:
            raise TenantError(f"no tenant {tenant_id!r}")
        return record

    # --- virtual numbers -------------------------------------------------------------------
    async def set_numbers(self, tenant_id: str, raw_numbers: list[str], *, shared_pool: tuple[str, ...]) -> list[str]:
        """Give the tenant exactly these numbers (none: back to the shared pool)."""
        record = await self._require(tenant_id)
        numbers = []
        for raw in raw_numbers:
            number = to_e164(raw, None)
            if number is None:
                raise TenantError(f"{raw!r} is not a phone number in international form")
            if number in shared_pool:
                raise TenantError(f"{number} is in the shared pool (REVOTP_VIRTUAL_NUMBERS)")
            numbers.append(number)
        owners = self._names.number_owners
        async with self._redis.pipeline(transaction=True) as pipe:
            await pipe.watch(owners, self._names.tenants)
            for number in numbers:
                owner = await pipe.hget(owners, number)
                if owner is not None and text(owner) != tenant_id:
                    raise TenantError(f"{number} belongs to tenant {text(owner)!r}")
            pipe.multi()  # type: ignore[no-untyped-call]
            released = [n for n in record.virtual_numbers if n not in numbers]
            if released:
                pipe.hdel(owners, *released)
            for number in numbers:
                pipe.hset(owners, number, tenant_id)
            updated = msgspec.structs.replace(record, virtual_numbers=tuple(numbers))
            pipe.hset(self._names.tenants, tenant_id, msgspec.json.encode(updated))
            await pipe.execute()
        return numbers

    async def set_test_numbers(self, tenant_id: str, raw_numbers: list[str]) -> list[str]:
        """Make exactly these phones the tenant's test numbers (none: test mode off)."""
        if len(raw_numbers) > MAX_TEST_NUMBERS:
            raise TenantError(f"at most {MAX_TEST_NUMBERS} test numbers")
        numbers = set()
        for raw in raw_numbers:
            # As valid as a challenge's phone must be: a test number is one a challenge can use.
            number = to_e164(raw, None, strict=True)
            if number is None:
                raise TenantError(f"{raw!r} is not a valid phone number in international form")
            numbers.add(number)
        await self._update(
            tenant_id, lambda record: msgspec.structs.replace(record, test_numbers=tuple(sorted(numbers)))
        )
        return sorted(numbers)

    # --- callbacks -------------------------------------------------------------------------
    async def set_allowed_sender_countries(self, tenant_id: str, raw_regions: list[str]) -> tuple[str, ...]:
        """Only phones of these ISO regions may answer the tenant's challenges (none: all)."""
        try:
            regions = checked_regions(raw_regions)
        except ValueError as exc:
            raise TenantError(str(exc)) from None
        await self._update(tenant_id, lambda record: msgspec.structs.replace(record, allowed_sender_countries=regions))
        return regions

    async def set_callback(self, tenant_id: str, url: str | None) -> str | None:
        """Post the tenant's events to ``url`` from now on (None: only challenges that name their
        own). Returns the signing secret only when this call had to make one: a tenant created
        before every tenant got its secret at creation sees it here, once."""
        newest = await self._redis.xrevrange(self._names.events(tenant_id), count=1)
        await self._start_callbacks_at(text(newest[0][0]) if newest else "0-0", tenant_id)
        made = new_callback_secret()
        updated = await self._update(
            tenant_id,
            lambda record: msgspec.structs.replace(
                record, callback_url=url, callback_secret=record.callback_secret or made
            ),
        )
        return made if updated.callback_secret == made else None

    async def _start_callbacks_at(self, event_id: str, tenant_id: str) -> None:
        """Where the callbacks relay starts reading the tenant's log, unless it has started.

        Set by whoever knows first: a new tenant's log is empty, so every event of it is
        posted; a tenant that sets its URL is posted what follows. Left to the relay, which
        starts at the end of a log it first sees, an event written before its first look
        would be skipped.
        """
        await self._redis.set(self._names.callback_cursor(tenant_id), event_id, nx=True)

    async def rotate_callback_secret(self, tenant_id: str) -> str:
        """Sign the tenant's callbacks with a new secret from the next post on; return it (once)."""
        secret = new_callback_secret()
        await self._update(tenant_id, lambda record: msgspec.structs.replace(record, callback_secret=secret))
        return secret

    async def _update(self, tenant_id: str, change: Callable[[TenantRecord], TenantRecord]) -> TenantRecord:
        """Apply ``change`` to the tenant's record as one step: a concurrent change is retried."""
        tenants = self._names.tenants
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(tenants)
                    updated = change(await self._require(tenant_id))
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.hset(tenants, tenant_id, msgspec.json.encode(updated))
                    await pipe.execute()
                    return updated
                except WatchError:
                    continue

    async def number_owner(self, number: str) -> str | None:
        """The tenant that owns this virtual number, or None (shared or not ours)."""
        owner = await self._shared.execute("HGET", self._names.number_owners, number)
        return text(owner) if owner is not None else None
