"""The judge, the store and the sweeper on a real Redis alone: no HTTP, no AMQP.

What one SMS does across tenants (matcher/judge.py): the tenants it is judged against are fixed
at its first judgement, an SMS that verifies at one tenant is invisible to the others, and an
SMS that verifies nowhere is applied to every waiting tenant. What a sweep leaves: every due
challenge ended, its route and expiry slot tidied, and nothing new when it runs again.
"""

from __future__ import annotations

import msgspec
import pytest

from common.challenge_ids import new_challenge_id, slot_of
from common.challenges import Status
from common.clock import now_ms
from common.messages import InboundSms
from common.redis import text
from matcher.assembly import PartAssembler
from matcher.judge import Outcome
from matcher.sweeper import Sweeper
from tests.integration.conftest import OTHER_PHONE, PHONE, VIRTUAL_NUMBER
from tests.integration.judge_bench import Bench, sms


async def test_an_sms_that_verifies_at_one_tenant_is_invisible_to_another(bench: Bench):
    acme, globex = await bench.open("acme"), await bench.open("globex", max_attempts=1)
    judgement = await bench.judge.judge(sms(f"code {acme.code}"))
    assert judgement.outcome is Outcome.APPLIED
    assert [(v.challenge_id, v.status) for v in judgement.verdicts] == [(acme.challenge.id, Status.VERIFIED)]
    assert await bench.state(acme) == (Status.VERIFIED, 1)
    assert await bench.state(globex) == (Status.PENDING, 0)
    assert await bench.events("globex") == []


async def test_an_sms_that_verifies_nowhere_costs_every_waiting_tenant_an_attempt(bench: Bench):
    acme, globex = await bench.open("acme"), await bench.open("globex")
    wrong = next(code for code in ("111111", "222222", "333333") if code not in (acme.code, globex.code))
    judgement = await bench.judge.judge(sms(wrong))
    assert judgement.outcome is Outcome.APPLIED
    assert {v.status for v in judgement.verdicts} == {Status.PENDING}
    assert await bench.state(acme) == (Status.PENDING, 1)
    assert await bench.state(globex) == (Status.PENDING, 1)
    assert await bench.events("acme") == [f"challenge.attempt_failed {acme.challenge.id}"]
    assert await bench.events("globex") == [f"challenge.attempt_failed {globex.challenge.id}"]


async def test_a_redelivery_meets_the_tenants_of_its_first_judgement_and_changes_nothing(bench: Bench):
    acme = await bench.open("acme")
    first = sms("no code here", pid="p-1")
    assert (await bench.judge.judge(first)).outcome is Outcome.APPLIED
    later = await bench.open("globex")  # opened after the SMS was first judged
    again = await bench.judge.judge(first)
    assert again.outcome is Outcome.DUPLICATE
    assert await bench.state(acme) == (Status.PENDING, 1)
    assert await bench.state(later) == (Status.PENDING, 0)


async def test_an_sms_nobody_waits_for_is_remembered_as_judged(bench: Bench):
    early = sms("hello", pid="p-2")
    assert (await bench.judge.judge(early)).outcome is Outcome.NO_CHALLENGE
    opened = await bench.open("acme")
    # A provider's retry after a challenge was opened is the same SMS, not a new attempt.
    assert (await bench.judge.judge(early)).outcome is Outcome.NO_CHALLENGE
    assert await bench.state(opened) == (Status.PENDING, 0)


@pytest.mark.parametrize(
    ("message", "outcome"),
    [
        (sms("123456", recipient="+15559999999"), Outcome.UNKNOWN_NUMBER),
        (sms("123456", recipient=None), Outcome.UNKNOWN_NUMBER),
        (sms("123456", sender=None), Outcome.BAD_SENDER),
        (sms("123456", sender=OTHER_PHONE), Outcome.NO_CHALLENGE),
    ],
)
async def test_an_sms_that_concerns_no_challenge_changes_nothing(bench: Bench, message: InboundSms, outcome: Outcome):
    opened = await bench.open("acme")
    assert (await bench.judge.judge(message)).outcome is outcome
    assert await bench.state(opened) == (Status.PENDING, 0)
    assert await bench.events("acme") == []


def sweeper_at(bench: Bench, instant_ms: int) -> Sweeper:
    resources = bench.resources
    assembler = PartAssembler(resources.redis, resources.names, resources.keyring, timeout_ms=60_000)
    return Sweeper(resources.store, assembler, bench.judge, grace_ms=0, interval_s=1.0, clock=lambda: instant_ms)


async def route_members(bench: Bench) -> list[str]:
    names = bench.resources.names
    route = await bench.resources.redis.hget(
        names.route(PHONE, VIRTUAL_NUMBER), names.route_field(PHONE, VIRTUAL_NUMBER)
    )
    return sorted(text(route or b"").split())


async def test_a_sweep_ends_every_due_challenge_and_tidies_its_route_and_slot(bench: Bench):
    verified, canceled, pending = [await bench.open(tenant) for tenant in ("acme", "globex", "acme")]
    later = await bench.open("globex", ttl_ms=600_000)
    assert (await bench.judge.judge(sms(f"code {verified.code}"))).outcome is Outcome.APPLIED
    await bench.resources.store.cancel(canceled.challenge, now_ms())

    await sweeper_at(bench, now_ms() + 200_000).sweep_once()
    assert await bench.state(verified) == (Status.VERIFIED, 1)
    assert await bench.state(canceled) == (Status.CANCELED, 0)
    assert await bench.state(pending) == (Status.EXPIRED, 0)
    assert await bench.state(later) == (Status.PENDING, 0)
    assert await bench.events("acme") == [
        f"challenge.verified {verified.challenge.id}",
        f"challenge.expired {pending.challenge.id}",
    ]
    # Only the challenge not due yet is still on the route and in the expiry index.
    assert await route_members(bench) == [f"globex/{later.challenge.id}"]
    everything = await bench.resources.store.expiry_slots.due(2**62, 100)
    assert everything == [f"globex/{slot_of(later.challenge.id)}"]


async def test_a_sweep_cut_short_is_done_again_without_a_second_event(bench: Bench):
    opened = await bench.open("acme")
    sweeper = sweeper_at(bench, now_ms() + 200_000)
    await sweeper.sweep_once()
    # As if the sweeper died before it forgot the slot: the next one sweeps it again.
    index = bench.resources.store.expiry_slots
    slot = slot_of(opened.challenge.id)
    assert slot is not None
    await bench.resources.redis.zadd(index.key_of(f"acme/{slot}"), {f"acme/{slot}": slot})
    await sweeper.sweep_once()
    assert await bench.events("acme") == [f"challenge.expired {opened.challenge.id}"]
    assert await index.due(2**62, 100) == []
    assert await route_members(bench) == []


async def test_a_challenge_is_stored_only_under_the_expiry_its_id_names(bench: Bench):
    opened = await bench.open("acme")
    moved = msgspec.structs.replace(opened.challenge, id=new_challenge_id(opened.challenge.expires_at + 3_600_000))
    with pytest.raises(ValueError, match="slot of its expiry"):
        await bench.resources.store.create(moved, b"h" * 16)
    assert await bench.resources.store.get("acme", moved.id) is None
    assert await bench.resources.store.get("acme", "ch_not-an-id") is None
