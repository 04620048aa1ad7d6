"""Challenges stored by an earlier version, in the layouts it wrote, live on as the rules say.

A deployment upgrades while challenges are pending: the atomic step, the store and the takeover
lookup read the record layout and code index fields written before theirs (``EarlierRecord``),
and keep a record in the layout it was found in, so a process of either version can read it.
"""

from __future__ import annotations

import msgspec
import pytest

from common.challenge_ids import slot_of
from common.challenges import EarlierRecord, Status
from common.clock import now_ms
from common.names import CODE_INDEX_WINDOW_MS
from common.redis import binary
from common.resources import RedisResources
from common.settings import Settings
from matcher.judge import Outcome
from tests.integration.conftest import VIRTUAL_NUMBER
from tests.integration.judge_bench import Bench, Opened, sms
from tests.integration.test_judge import sweeper_at
from tests.support.earlier_forms import earlier_code_index_field, earlier_record


def _record_key(bench: Bench, opened: Opened) -> str:
    return bench.resources.names.challenges(opened.challenge.tenant_id, slot_of(opened.challenge.id) or 0)


async def _open_as_before(bench: Bench, ttl_ms: int = 120_000) -> Opened:
    """A challenge whose record is in the earlier layout, as an earlier ingest left it."""
    opened = await bench.open("acme", ttl_ms=ttl_ms)
    keyring = bench.resources.keyring
    code_hash = keyring.code_hash("acme", opened.challenge.phone, opened.code)
    await bench.resources.redis.hset(
        _record_key(bench, opened), opened.challenge.id, earlier_record(opened.challenge, code_hash)
    )
    return opened


async def _earlier_layout(bench: Bench, opened: Opened) -> EarlierRecord:
    """The stored record, which must still be in the earlier layout."""
    packed = await bench.resources.redis.hget(_record_key(bench, opened), opened.challenge.id)
    return msgspec.msgpack.decode(binary(packed), type=EarlierRecord)


async def test_an_earlier_record_is_verified_by_its_code_and_keeps_its_layout(bench: Bench):
    opened = await _open_as_before(bench)
    judgement = await bench.judge.judge(sms(f"code {opened.code}"))
    assert judgement.outcome is Outcome.APPLIED
    assert [(v.challenge_id, v.status) for v in judgement.verdicts] == [(opened.challenge.id, Status.VERIFIED)]
    stored = await _earlier_layout(bench, opened)
    assert (stored.status, stored.attempts, stored.expires_at) == ("verified", 1, opened.challenge.expires_at)
    read = await bench.resources.store.get("acme", opened.challenge.id)
    assert read is not None
    assert (read.status, read.expires_at, read.created_at) == (
        Status.VERIFIED, opened.challenge.expires_at, opened.challenge.created_at,
    )  # fmt: skip


async def test_an_earlier_record_counts_wrong_codes_and_fails_at_its_limit(bench: Bench):
    opened = await _open_as_before(bench)
    wrong = "000000" if opened.code != "000000" else "111111"
    for attempt in range(1, 4):
        await bench.judge.judge(sms(wrong))
        assert (await _earlier_layout(bench, opened)).attempts == attempt
    assert await bench.state(opened) == (Status.FAILED, 3)


async def test_an_earlier_record_is_canceled_and_expired(bench: Bench):
    canceled, pending = await _open_as_before(bench), await _open_as_before(bench)
    await bench.resources.store.cancel(canceled.challenge, now_ms())
    await sweeper_at(bench, now_ms() + 200_000).sweep_once()
    assert await bench.state(canceled) == (Status.CANCELED, 0)
    assert await bench.state(pending) == (Status.EXPIRED, 0)
    assert (await _earlier_layout(bench, pending)).status == "expired"


@pytest.mark.parametrize("layout", ["current", "earlier"])
async def test_an_attempt_changes_only_the_attempts_of_a_record(bench: Bench, layout: str):
    opened = await (bench.open("acme") if layout == "current" else _open_as_before(bench))
    await bench.judge.judge(sms("000000" if opened.code != "000000" else "111111"))
    read = await bench.resources.store.get("acme", opened.challenge.id)
    assert read == msgspec.structs.replace(opened.challenge, attempts=1, last_event_id=read and read.last_event_id)


async def test_an_earlier_code_index_entry_still_signals_a_code_sent_from_another_phone(bench: Bench):
    opened = await bench.open("acme")
    names, keyring, redis = bench.resources.names, bench.resources.keyring, bench.resources.redis
    tag = keyring.code_tag(VIRTUAL_NUMBER, opened.code)
    index = names.code_index(opened.challenge.expires_at // CODE_INDEX_WINDOW_MS, tag)
    assert await redis.hdel(index, names.code_index_field(tag, opened.challenge.id)) == 1
    await redis.hset(index, earlier_code_index_field(tag, opened.challenge.id), "acme")
    await bench.judge.judge(sms(opened.code, sender="+4915112345678"))
    assert await bench.events("acme") == [f"challenge.sender_mismatch {opened.challenge.id}"]
    assert await bench.state(opened) == (Status.PENDING, 0)


async def test_with_write_earlier_records_ingest_writes_what_older_matchers_read(settings: Settings, cleanup: None):
    resources = await RedisResources.open(msgspec.structs.replace(settings, write_earlier_records=True))
    try:
        bench = Bench(resources, settings)
        opened = await bench.open("acme")
        assert (await _earlier_layout(bench, opened)).status == "pending"
        await bench.judge.judge(sms(f"code {opened.code}"))
        assert (await _earlier_layout(bench, opened)).status == "verified"
    finally:
        await resources.close()
