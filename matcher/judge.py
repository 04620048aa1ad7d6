"""One SMS → its verdicts: check the numbers ingest read, find the tenants, apply the atomic step per tenant.

Each tenant's challenges are judged on their own (the README's matching rules 2 to 6, applied
per tenant): another tenant's codes never change what an SMS does to this tenant's challenges.
And a tenant learns nothing of an SMS meant for another (rule 8): when several tenants wait for the same sender on
the same number, the SMS first goes to each in ``VERIFYING`` mode, which commits only where it
verifies a challenge. If it verified one anywhere, the others are left untouched; if it verified
none, it is applied to each in full. Each tenant's seen marker remembers whether its application
verified, so a redelivery after a crash takes the same branch.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import msgspec
import structlog

from common.clock import Clock, now_ms, provider_time_ms
from common.devices import DeviceRegistry
from common.funnel import Step
from common.keyring import Keyring
from common.messages import TEST_PROVIDER, InboundSms
from common.metrics import labeled
from common.settings import Settings
from common.store import Applied, ChallengeStore, MatchMode, MatchResult, Verdict
from common.tenants import TenantRegistry
from matcher.matching import candidates_by_spec
from matcher.metrics import FOREIGN_SENDERS, FUNNEL, STALE
from matcher.sender_policy import SenderPolicy
from matcher.takeover import MAX_CODES_LOOKED_UP, TakeoverSignals

log = structlog.get_logger(__name__)


# The candidates an enrolled app's TOTP can be (common/devices.py: 6 digits).
DEVICE_SPEC = "numeric:6"
# Providers whose reception times without a zone are documented as UTC.
ZONELESS_UTC_PROVIDERS = frozenset({"vonage"})


class Outcome(enum.StrEnum):
    APPLIED = "applied"  # at least one tenant's challenges were considered
    DUPLICATE = "duplicate"  # every tenant had applied this provider message already
    NO_CHALLENGE = "no_challenge"  # nobody waits for an SMS from this sender to this number
    UNKNOWN_NUMBER = "unknown_number"  # sent to a number that is not ours
    BAD_SENDER = "bad_sender"  # the sender is no phone number (alphanumeric id, garbage)
    FOREIGN_SENDER = "foreign_sender"  # every waiting tenant refuses senders of this country


class Judgement(msgspec.Struct, frozen=True):
    outcome: Outcome
    verdicts: tuple[Verdict, ...] = ()

    @property
    def verified(self) -> bool:
        return any(verdict.verifies for verdict in self.verdicts)


class Judge:
    def __init__(
        self,
        store: ChallengeStore,
        tenants: TenantRegistry,
        keyring: Keyring,
        settings: Settings,
        *,
        devices: DeviceRegistry,
        clock: Clock = now_ms,
    ) -> None:
        self._store = store
        self._tenants = tenants
        self._sender_policy = SenderPolicy(tenants)
        self._takeovers = TakeoverSignals(store, keyring)
        self._devices = devices
        self._keyring = keyring
        self._virtual_numbers = frozenset(settings.virtual_numbers)
        self._clock = clock

    async def _is_ours(self, recipient: str) -> bool:
        """The shared pool, or a number the operator gave a tenant (only its challenges use it)."""
        return recipient in self._virtual_numbers or await self._tenants.number_owner(recipient) is not None

    async def judge(self, sms: InboundSms) -> Judgement:
        # ingest read both numbers when it accepted the SMS (matching rule 1).
        recipient, sender = sms.recipient_e164, sms.sender_e164
        if recipient is None or not await self._is_ours(recipient):
            return Judgement(Outcome.UNKNOWN_NUMBER)
        if sender is None:
            return Judgement(Outcome.BAD_SENDER)
        candidates = candidates_by_spec(sms.text)
        # Each distinct code once, in text order: a six-digit one is a candidate of both alphabets.
        codes = list(dict.fromkeys(code for found in candidates.values() for code in found))
        judgement = await self._judge_for_sender(sms, sender, recipient, candidates, codes)
        if judgement.outcome is not Outcome.DUPLICATE and not judgement.verified and sms.provider != TEST_PROVIDER:
            # Not the sender's own code: perhaps someone else's, sent from this phone.
            await self._takeovers.check(sms, sender, recipient, set(codes[:MAX_CODES_LOOKED_UP]), self._clock())
        return judgement

    async def _judge_for_sender(
        self, sms: InboundSms, sender: str, recipient: str, candidates: dict[str, list[str]], codes: list[str]
    ) -> Judgement:
        """The atomic step at every tenant waiting for an SMS from this sender to this number."""
        route = await self._store.route_of(
            sender, recipient, provider=sms.provider, provider_message_id=sms.provider_message_id
        )
        if not route.tenants:
            return Judgement(Outcome.NO_CHALLENGE)
        tenants = list(route.tenants)
        if sms.provider != TEST_PROVIDER:  # a tenant's own simulation is no SMS from abroad
            tenants, refused = await self._sender_policy.admitting(tenants, sender)
            for tenant_id in refused:
                FOREIGN_SENDERS.labels(tenant=tenant_id).inc()
            if not tenants:
                return Judgement(Outcome.FOREIGN_SENDER)
        received_at = provider_time_ms(sms.received_at, zoneless_is_utc=sms.provider in ZONELESS_UTC_PROVIDERS)

        proofs = {
            tenant_id: await self._device_proofs(
                tenant_id, sender, candidates, codes, sms.accepted_at_ms, devices=tenant_id in route.device_tenants
            )
            for tenant_id in tenants
        }

        async def apply(tenant_id: str, mode: MatchMode) -> MatchResult:
            hashes, device_steps = proofs[tenant_id]
            return await self._store.match(
                tenant_id,
                provider=sms.provider,
                provider_message_id=sms.provider_message_id,
                phone=sender,
                virtual_number=recipient,
                accepted_at_ms=sms.accepted_at_ms,
                now_ms=self._clock(),
                candidate_hashes=hashes,
                mode=mode,
                on_route=route.challenges.get(tenant_id, ()),
                simulated=sms.provider == TEST_PROVIDER,
                received_at_ms=received_at,
                device_steps=device_steps,
            )

        if len(tenants) == 1:
            results = [await apply(tenants[0], MatchMode.ALL)]
        else:
            results = [await apply(tenant_id, MatchMode.VERIFYING) for tenant_id in tenants]
            if not any(result.verified for result in results):
                results = [
                    await apply(tenant_id, MatchMode.ALL) if result.applied is Applied.HELD else result
                    for tenant_id, result in zip(tenants, results, strict=True)
                ]
        _count(tenants, results)
        verdicts = tuple(verdict for result in results for verdict in result.verdicts)
        if not any(result.applied is Applied.APPLIED for result in results):
            return Judgement(Outcome.DUPLICATE)
        return Judgement(Outcome.APPLIED, verdicts)

    async def _device_proofs(
        self,
        tenant_id: str,
        sender: str,
        candidates: dict[str, list[str]],
        codes: list[str],
        accepted_at_ms: int,
        *,
        devices: bool,
    ) -> tuple[dict[str, list[bytes]], dict[bytes, str]]:
        """Each candidate's hashes for the atomic step; a candidate that is the current TOTP of a
        device the tenant enrolled for this sender also carries that device's token, and names
        the key that spends its time step (docs/api.md, Device-bound codes). Devices are looked
        up only when a device-bound challenge of the tenant waits on the SMS's route."""
        hashed = {code: self._keyring.candidate_hash(tenant_id, sender, code) for code in codes}
        hashes = {spec: [hashed[code] for code in codes] for spec, codes in candidates.items()}
        totp_codes = candidates.get(DEVICE_SPEC, [])
        device_steps: dict[bytes, str] = {}
        if not totp_codes or not devices:
            return hashes, device_steps
        for device_id in await self._devices.of_phone(tenant_id, sender):
            steps = await self._devices.steps(tenant_id, device_id, totp_codes, accepted_at_ms)
            for index, code in enumerate(totp_codes):
                if code in steps and hashes[DEVICE_SPEC][index] not in device_steps:
                    proof = hashes[DEVICE_SPEC][index] + self._keyring.device_tokens(tenant_id, sender, device_id)
                    hashes[DEVICE_SPEC][index] = proof
                    device_steps[proof] = self._store.names.device_step(tenant_id, device_id, steps[code])
        return hashes, device_steps


def _count(tenants: Sequence[str], results: Sequence[MatchResult]) -> None:
    """The funnel's matcher steps in /metrics, as the atomic step counted them in Redis, and
    the challenges each tenant's step found the SMS too old for."""
    for tenant_id, result in zip(tenants, results, strict=True):
        if result.stale:
            STALE.labels(tenant=tenant_id).inc(result.stale)
        if result.applied is Applied.APPLIED:
            labeled(FUNNEL, tenant_id, Step.SMS_RECEIVED).inc()
            verified = sum(1 for verdict in result.verdicts if verdict.verifies)
            if verified:
                labeled(FUNNEL, tenant_id, Step.VERIFIED).inc(verified)
