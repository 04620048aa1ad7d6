"""``challenge.sender_mismatch``: a pending challenge's code sent from another phone.

Reverse OTP exists to stop exactly this: someone who sees a user's code (over their shoulder, a
phishing page, a support call) sends it from their own phone to claim the user's number. It
verifies nothing (the sender must be the challenge's phone), and costs the challenge nothing,
but the platform should hear of it, as it should of a dual-SIM user who sent from the wrong SIM.

The code index (``Keyring.code_tag``, ``ChallengeStore.with_code``) finds the challenges a code
belongs to on the SMS's number, whoever sent it. A tenant is told only when the code is that
of exactly one of its pending challenges (an ambiguous code says nothing about anyone), only
about its own challenge, and once per provider message.
"""

from __future__ import annotations

import structlog

from common.challenges import Challenge, Status
from common.keyring import Keyring
from common.messages import InboundSms
from common.phones import region_of
from common.store import ChallengeStore
from matcher.metrics import SENDER_MISMATCHES

log = structlog.get_logger(__name__)

# Codes of one SMS looked up in the index, as the atomic step tries ten candidates at most: a
# text stuffed with tokens must not turn into hundreds of lookups.
MAX_CODES_LOOKED_UP = 10


def masked(phone: str) -> str:
    """``+4915112345689`` → ``+4915*******89``: enough to recognise, not to call."""
    return phone[:5] + "*" * max(len(phone) - 7, 0) + phone[-2:]


class TakeoverSignals:
    def __init__(self, store: ChallengeStore, keyring: Keyring) -> None:
        self._store = store
        self._keyring = keyring

    async def check(self, sms: InboundSms, sender: str, recipient: str, codes: set[str], now_ms: int) -> int:
        """Signal each tenant whose one pending challenge on ``recipient`` has one of ``codes``
        but another phone; returns how many were signaled."""
        if not codes:
            return 0
        tags = [tag for code in codes for tag in self._keyring.code_tags(recipient, code)]
        signaled = 0
        for tenant_id, challenge_ids in (await self._store.with_code(tags, now_ms)).items():
            matching = await self._pending_with_code(tenant_id, set(challenge_ids), recipient, codes)
            if len(matching) != 1:
                continue  # none, or an ambiguous code: nothing can be said
            ((challenge, code),) = matching
            if challenge.phone == sender:
                continue  # its own phone: the atomic step judged it
            event_id = await self._store.signal_mismatch(
                challenge,
                self._keyring.candidate_hash(tenant_id, challenge.phone, code),
                sender=sender,
                masked=masked(sender),
                country=region_of(sender),
                provider=sms.provider,
                provider_message_id=sms.provider_message_id,
                now_ms=now_ms,
            )
            if event_id is not None:
                signaled += 1
                SENDER_MISMATCHES.labels(tenant=tenant_id).inc()
                log.info("sender_mismatch", tenant_id=tenant_id, challenge_id=challenge.id)
        return signaled

    async def _pending_with_code(
        self, tenant_id: str, challenge_ids: set[str], recipient: str, codes: set[str]
    ) -> list[tuple[Challenge, str]]:
        """The tenant's pending real challenges on this number whose code is one of ``codes``."""
        found = []
        for challenge_id in sorted(challenge_ids):
            read = await self._store.get_with_code_hash(tenant_id, challenge_id)
            if read is None:
                continue
            challenge, stored = read
            if challenge.status is not Status.PENDING or challenge.test or challenge.virtual_number != recipient:
                continue
            for code in sorted(codes):
                if self._keyring.is_code(tenant_id, challenge.phone, code, stored):
                    found.append((challenge, code))
                    break
        return found
