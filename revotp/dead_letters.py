"""``revotp dead-letters``: look at what the matcher could not judge, replay it, or purge it.

The reason a message was dead-lettered is the broker's own, kept in its ``x-death`` header:
``rejected`` is the matcher refusing a body it cannot decode (a poison body), ``delivery_limit``
a message that failed ``REVOTP_MAX_DELIVERIES`` times (its error is in the matcher's log under
``sms_failed`` with the same ``message_id``).

Messages are read with ``basic.get`` and left unacknowledged; what is not replayed or purged
goes back to the queue when the channel closes, so looking never loses anything.
A replayed SMS is published to the inbound exchange as a message of its own, confirmed, and
only then removed from the dead-letter queue: it is judged once, as any redelivery is (the
judge's seen marker), and a crash in between leaves a copy in each queue, never none.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from common import messages
from common.amqp import connect_amqp, declare_topology
from common.messages import InboundSms
from common.names import Names
from common.publisher import Publisher
from common.settings import Settings

# The broker's x-death reasons, as an operator reads them.
REASONS = {"rejected": "poison_body", "delivery_limit": "deliveries_exhausted"}


@dataclass(frozen=True)
class DeadLetter:
    id: str
    reason: str
    dead_lettered_at: str | None
    from_queue: str | None
    sms: list[InboundSms] | None  # None: the body is not SMS (a poison body)
    problem: str | None  # why the body cannot be decoded

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reason": self.reason,
            "dead_lettered_at": self.dead_lettered_at,
            "from_queue": self.from_queue,
            "sms": len(self.sms) if self.sms is not None else 0,
            "problem": self.problem,
        }

    def details(self, *, reveal_text: bool) -> dict[str, Any]:
        """The summary and every SMS; the text's digits masked unless asked (it may hold a code)."""
        shown = [
            {
                "message_id": sms.message_id,
                "provider": sms.provider,
                "provider_message_id": sms.provider_message_id,
                "from": sms.sender,
                "to": sms.recipient,
                "text": sms.text if reveal_text else re.sub(r"\d", "•", sms.text),
                "accepted_at_ms": sms.accepted_at_ms,
            }
            for sms in self.sms or []
        ]
        return {**self.summary(), "messages": shown}


def read(message: AbstractIncomingMessage) -> DeadLetter:
    """What a dead-lettered message is, why it is here, and since when."""
    death = _first_death(message.headers.get("x-death"))
    raw_reason = str(death.get("reason", "unknown"))
    when = death.get("time")
    try:
        sms: list[InboundSms] | None = messages.decode_many(message.body)
        problem = None
    except messages.MessageDecodeError as exc:
        sms, problem = None, str(exc)
    return DeadLetter(
        id=message.message_id or "sha256:" + hashlib.sha256(message.body).hexdigest()[:16],
        reason=REASONS.get(raw_reason, raw_reason),
        dead_lettered_at=when.isoformat() if isinstance(when, datetime) else None,
        from_queue=str(death["queue"]) if "queue" in death else None,
        sms=sms,
        problem=problem,
    )


def _first_death(header: object) -> dict[str, Any]:
    if isinstance(header, list) and header and isinstance(header[0], dict):
        return header[0]
    return {}


class DeadLetterQueue:
    """The dead-letter queue of one deployment, read through one channel."""

    def __init__(self, channel: AbstractChannel, queue: AbstractQueue, publisher: Publisher) -> None:
        self._channel = channel
        self._queue = queue
        self._publisher = publisher

    async def held(self, limit: int | None = None) -> AsyncIterator[tuple[AbstractIncomingMessage, DeadLetter]]:
        """Each message in turn, left unacknowledged (returned to the queue when the channel closes)."""
        taken = 0
        while limit is None or taken < limit:
            message = await self._queue.get(no_ack=False, fail=False)
            if message is None:
                return
            taken += 1
            yield message, read(message)

    async def replay(self, message: AbstractIncomingMessage, letter: DeadLetter) -> bool:
        """Put the SMS back on the inbound queue, then drop the dead letter; False for a poison body."""
        if letter.sms is None:
            return False
        await self._publisher.publish_each(letter.sms)
        await message.ack()
        return True

    async def purge(self) -> int:
        result = await self._queue.purge()
        return int(result.message_count or 0)


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[DeadLetterQueue]:
    names = Names(settings.namespace)
    connection = await connect_amqp(settings.amqp_url, name="revotp dead-letters", attempts=1)
    try:
        channel = await connection.channel()
        topology = await declare_topology(
            channel, names, max_deliveries=settings.max_deliveries, quorum_group_size=settings.quorum_group_size
        )
        queue = await channel.declare_queue(names.dead_letter_queue, passive=True)
        yield DeadLetterQueue(channel, queue, Publisher(topology.exchange, timeout_s=settings.publish_timeout_s))
    finally:
        await connection.close()


def add_arguments(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("dead-letters", help="list, show, replay or purge the SMS the matcher gave up on")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="one JSON line per dead letter: id, reason, when, how many SMS")
    listing.add_argument("--limit", type=int, default=1000, help="at most this many (default 1000)")
    show = actions.add_parser("show", help="one dead letter with its SMS (digits of the text masked)")
    show.add_argument("id")
    show.add_argument("--reveal-text", action="store_true", help="print the SMS text as it is (it may hold a code)")
    replay = actions.add_parser("replay", help="put dead SMS back on the inbound queue, to be judged once")
    chosen = replay.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--all", action="store_true", help="every dead letter that holds SMS")
    chosen.add_argument("ids", nargs="*", default=[], metavar="ID", help="the ids `list` shows")
    purge = actions.add_parser("purge", help="delete every dead letter")
    purge.add_argument("--yes", action="store_true", required=True, help="confirm: they cannot be brought back")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """One JSON line per result on stdout; 1 when something asked for was not found or not replayed."""
    async with opened(settings) as queue:
        if args.action == "list":
            async for _, letter in queue.held(args.limit):
                _print(letter.summary())
            return 0
        if args.action == "show":
            async for _, letter in queue.held():
                if letter.id == args.id:
                    _print(letter.details(reveal_text=args.reveal_text))
                    return 0
            return _not_found([args.id])
        if args.action == "replay":
            return await _replay(queue, args.ids, every=args.all)
        _print({"purged": await queue.purge()})
        return 0


async def _replay(queue: DeadLetterQueue, ids: Sequence[str], *, every: bool) -> int:
    wanted = set(ids)
    found: set[str] = set()
    left = 0
    async for message, letter in queue.held():
        if not every and letter.id not in wanted:
            continue
        found.add(letter.id)
        if await queue.replay(message, letter):
            _print({"replayed": letter.id, "sms": len(letter.sms or [])})
        else:
            left += 1
            _print({"left": letter.id, "reason": letter.reason, "problem": letter.problem})
    missing = sorted(wanted - found)
    if missing:
        _not_found(missing)
    # A poison body left behind is what --all expects; named by its id, it is a failure.
    return 1 if missing or (left and not every) else 0


def _not_found(ids: list[str]) -> int:
    message = f"no dead letter with id {', '.join(ids)}"
    print(json.dumps({"error": {"code": "not_found", "message": message}}), file=sys.stderr)
    return 1


def _print(line: dict[str, Any]) -> None:
    print(json.dumps(line, ensure_ascii=False), flush=True)
