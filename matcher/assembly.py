"""Reassembling long SMS that providers deliver in parts (Vonage's ``concat-*``).

Every part travels through RabbitMQ like any SMS, so an accepted part is never lost. The matcher
adds each part to a Redis hash in one atomic step, its text sealed with the keyring (it may hold
a pending challenge's code, and a copy of Redis must show none); the part that completes the message gets the
whole text back and it is judged like any SMS. A redelivered part of a finished message gets the
same text again, and since the assembled message's id is derived from its parts' ids, judging
it twice changes nothing. Parts whose siblings never come are judged as they stand after
``REVOTP_PARTS_TIMEOUT_S``, by the sweeper, and marked done only once judged.
"""

from __future__ import annotations

import base64
import hashlib
from importlib import resources

import msgspec
from redis.typing import EncodableT

from common.keyring import Keyring
from common.messages import InboundSms
from common.names import Names
from common.pipelining import SharedPipeline
from common.redis import RedisClient, text
from common.spread_index import SpreadIndex

_SCRIPT = resources.files("matcher").joinpath("lua/parts.lua").read_text()
# A finished assembly is kept this long past its timeout so late redeliveries still find it.
KEEP_AFTER_TIMEOUT_MS = 3600 * 1000


class PartAssembler:
    def __init__(
        self,
        redis: RedisClient,
        names: Names,
        keyring: Keyring,
        *,
        timeout_ms: int,
        shared: SharedPipeline | None = None,
    ) -> None:
        self._redis = redis
        self._names = names
        self._keyring = keyring
        self._timeout_ms = timeout_ms
        self._script = redis.register_script(_SCRIPT)
        self._deadlines = SpreadIndex(redis, names.part_deadlines)
        # A part is acked once added: its write rides the pipeline that waits for replicas.
        self._shared = shared or SharedPipeline(redis)

    def key_of(self, sms: InboundSms) -> str:
        part = sms.part
        assert part is not None
        return self._names.parts(sms.provider, sms.sender, sms.recipient, part.reference, part.total)

    async def add(self, sms: InboundSms) -> InboundSms | None:
        """The whole message once this part completes it, else None (the part is kept)."""
        part = sms.part
        assert part is not None
        key = self.key_of(sms)
        # The deadline first: a crash after it leaves a flush of a complete message, never a lost part.
        due_ms = sms.accepted_at_ms + self._timeout_ms
        await self._shared.execute("ZADD", self._deadlines.key_of(key), "NX", due_ms, key)
        template = msgspec.json.encode(msgspec.structs.replace(sms, part=None, text=""))
        args: list[EncodableT] = [
            "add",
            part.number,
            self._seal(key, part.number, sms.text),
            sms.provider_message_id,
            sms.accepted_at_ms,
            part.total,
            self._timeout_ms + KEEP_AFTER_TIMEOUT_MS,
            template,
        ]
        reply = [text(value) for value in await self._shared.run_script(self._script, [key], args)]
        if reply[0] != "complete":
            return None
        return self._assemble(key, sms, reply[2:])

    async def due(self, now_ms: int, limit: int) -> list[str]:
        return await self._deadlines.due(now_ms, limit)

    async def flush(self, key: str) -> InboundSms | None:
        """What a timed-out assembly holds, as one message (None when nothing is left)."""
        reply = [text(value) for value in await self._script(keys=[key], args=["flush"])]
        if reply[0] == "gone" or len(reply) <= 2:
            return None
        return self._assemble(key, msgspec.json.decode(reply[1], type=InboundSms), reply[2:])

    async def finish(self, key: str) -> None:
        await self._script(keys=[key], args=["finish"])
        await self._deadlines.remove(key)

    def _seal(self, key: str, number: int, part_text: str) -> str:
        """The part's text as stored: sealed, bound to its assembly and place."""
        sealed = self._keyring.seal(part_text.encode(), f"{key}#{number}")
        return base64.b64encode(sealed).decode()

    def _unseal(self, key: str, number: str, stored: str) -> str:
        return self._keyring.unseal(base64.b64decode(stored), f"{key}#{number}").decode()

    def _assemble(self, key: str, template: InboundSms, flat: list[str]) -> InboundSms:
        """One InboundSms from the ``number, sealed text, id, accepted_at`` runs of the script's reply."""
        runs = [flat[i : i + 4] for i in range(0, len(flat), 4)]
        ids = ",".join(f"{number}:{message_id}" for number, _, message_id, _ in runs)
        return msgspec.structs.replace(
            template,
            part=None,
            text="".join(self._unseal(key, number, sealed) for number, sealed, _, _ in runs),
            provider_message_id="parts-" + hashlib.sha256(ids.encode()).hexdigest()[:32],
            accepted_at_ms=max(int(accepted_at) for _, _, _, accepted_at in runs),
        )
