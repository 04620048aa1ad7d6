"""``python -m benchmarks``: the raw broker limit, then revotp end to end, as ratios of it.

Everything runs on this machine in one go, so each ratio compares figures measured together.
``--append`` adds the table, with the date and the machine, to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from pathlib import Path

import uvloop

from benchmarks import results
from benchmarks.memory import bytes_per_pending_challenge
from benchmarks.pipeline import (
    CREATE_CONCURRENCY,
    NUMBER_RATE_LIMIT,
    EndToEnd,
    IngestAlone,
    PacedLatency,
    end_to_end,
    ingest_alone,
    paced_latency,
    running,
)
from benchmarks.raw import amqp_round_trip, do_nothing_creates, do_nothing_webhooks, redis_round_trips
from benchmarks.sockets import IdleSockets, idle_sockets
from tests.integration.conftest import AMQP_URL, REDIS_URL
from tests.support.redis_cluster import OwnRedisCluster

# How far the broker yardstick may move between the start and the end of one run before the
# table says the machine was unsteady (shared hosts drift by a third within minutes).
STEADY_WITHIN = 0.15


@dataclass(frozen=True)
class RawLimits:
    broker: float  # msg/s, persistent publish with confirms → consume with acks
    handler: float  # requests/s of a do-nothing aiohttp handler, sent ingest's webhooks
    handler_creates: float  # the same, sent challenge creations
    redis: float  # single-command round trips/s
    broker_after: float = 0.0  # the broker yardstick again, once revotp's runs are over
    broker_cpu_ms: dict[str, float] = field(default_factory=dict)  # per message: publisher, consumer, RabbitMQ

    @property
    def broker_drift(self) -> float:
        """How much the machine's speed moved during the run, as the broker yardstick saw it."""
        return self.broker_after / self.broker - 1 if self.broker_after else 0.0


def _table(
    raw: RawLimits,
    alone: IngestAlone,
    runs: list[EndToEnd],
    paced: list[PacedLatency],
    memory: float,
    sockets: IdleSockets,
) -> str:
    rows = [
        "| figure | value | ratio |",
        "|---|---|---|",
        (
            f"| raw broker: persistent publish with confirms → consume with acks, quorum queue, 2 processes "
            f"| {raw.broker:,.0f} msg/s | 1.00x |"
        ),
        f"| ↳ CPU per message: {_cpu(raw.broker_cpu_ms)} | {sum(raw.broker_cpu_ms.values()):.2f} ms | |",
        f"| raw web: do-nothing aiohttp handler, signed webhooks, same client | {raw.handler:,.0f} req/s | 1.00x |",
        (
            f"| raw web: do-nothing aiohttp handler, creation requests ({CREATE_CONCURRENCY} in flight), same client "
            f"| {raw.handler_creates:,.0f} req/s | 1.00x |"
        ),
        f"| raw Redis: SET round trips, 128 in flight, one client | {raw.redis:,.0f}/s | |",
        (
            f"| raw broker again, after revotp's runs (ratios use the first) | {raw.broker_after:,.0f} msg/s "
            f"| {raw.broker_drift:+.0%}{' unsteady machine' if abs(raw.broker_drift) > STEADY_WITHIN else ''} |"
        ),
        (
            f"| ingest alone (no matcher, no notifier), {alone.concurrency} concurrent webhooks, {alone.sms:,} SMS "
            f"in each of {len(alone.accepted_per_s)} rounds, median | {statistics.median(alone.accepted_per_s):,.0f} accepted/s "
            f"| {statistics.median(alone.ratios):.2f}x web |"
        ),
        (
            "| ↳ each round against the do-nothing handler measured just before it "
            f"| {', '.join(f'{ratio:.2f}x' for ratio in alone.ratios)} | |"
        ),
        f"| ↳ CPU per webhook: {_cpu(alone.cpu_ms_per_sms)} | {sum(alone.cpu_ms_per_sms.values()):.2f} ms | |",
    ]
    single = [run for run in runs if run.redis == "one server"]
    for run in single:
        rows += _run_rows(run, raw)
    for load in paced:  # measured on the last one-server deployment
        rows.append(
            f"| ↳ latency webhook → verdict at {load.offered_per_s:,.0f}/s offered "
            f"({load.offered_per_s / raw.broker:.3g}x broker, {load.sms:,} SMS in {len(load.round_p99s_ms)} rounds), "
            f"p50 / p99 / max | {load.p50_ms:.0f} / {load.p99_ms:.0f} / {load.max_ms:.0f} ms "
            f"(each round's p99: {min(load.round_p99s_ms):.0f} to {max(load.round_p99s_ms):.0f}) | |"
        )
    for run in runs:
        if run not in single:
            rows += _run_rows(run, raw)
    creates = runs[0].creates_per_s
    rows.append(f"| challenge creation | {creates:,.0f}/s | {creates / raw.handler_creates:.2f}x web |")
    rows.append(f"| Redis memory per pending challenge | {memory:,.0f} B | |")
    rows.append(
        f"| notifier memory per idle socket ({sockets.count:,} sockets) | {sockets.bytes_per_socket:,.0f} B | |"
    )
    rows.append(
        f"| ↳ one event's fan-out to all of them, p50 / max | {sockets.fanout_p50_ms:.0f} / {sockets.fanout_max_ms:.0f} ms | |"
    )
    return "\n".join(rows)


def _run_rows(run: EndToEnd, raw: RawLimits) -> list[str]:
    return [
        (
            f"| revotp end to end, {run.matchers} matcher(s), Redis {run.redis}, {run.concurrency} concurrent "
            f"webhooks, {run.sms:,} SMS "
            f"| {run.verified_per_s:,.0f} verified/s | {run.verified_per_s / raw.broker:.2f}x broker |"
        ),
        (
            f"| ↳ against the broker measured just before and after this run: {run.broker_beside:,.0f} msg/s "
            f"| | {run.verified_per_s / run.broker_beside:.2f}x broker |"
        ),
        f"| ↳ webhooks accepted while sending | {run.accepted_per_s:,.0f}/s | {run.accepted_per_s / raw.handler:.2f}x web |",
        f"| ↳ latency webhook → verdict at saturation, p50 / p99 | {run.p50_ms:.0f} / {run.p99_ms:.0f} ms | |",
        f"| ↳ CPU per verified SMS: {_cpu(run.cpu_ms_per_sms)} | {sum(run.cpu_ms_per_sms.values()):.2f} ms | |",
        (
            f"| ↳ the raw path's CPU per message beside this run ({run.broker_beside_cpu_ms:.2f} ms) over revotp's "
            f"per verified SMS: the throughput ratio on a steady machine if both were bound by CPU alone "
            f"| | {run.broker_beside_cpu_ms / sum(run.cpu_ms_per_sms.values()):.2f}x in CPU |"
        ),
    ]


def _cpu(by_part: dict[str, float]) -> str:
    return ", ".join(f"{part} {ms:.2f}" for part, ms in by_part.items())


async def main(args: argparse.Namespace) -> None:
    print(f"per-number limit in force for the run: REVOTP_NUMBER_RATE_LIMIT={NUMBER_RATE_LIMIT}")
    broker = await amqp_round_trip(AMQP_URL, args.sms)
    raw = RawLimits(
        broker=broker.per_s,
        broker_cpu_ms=broker.cpu_ms_per_message,
        handler=await do_nothing_webhooks(args.sms, args.concurrency),
        handler_creates=await do_nothing_creates(args.sms, CREATE_CONCURRENCY),
        redis=await redis_round_trips(REDIS_URL, args.sms * 4, 128),
    )
    print(
        f"raw: broker {raw.broker:,.0f} msg/s, web {raw.handler:,.0f} req/s (webhooks), "
        f"{raw.handler_creates:,.0f} req/s (creations), Redis {raw.redis:,.0f}/s"
    )
    runs: list[EndToEnd] = []
    paced: list[PacedLatency] = []
    with tempfile.TemporaryDirectory(prefix="revotp-bench-") as logs:
        alone = await ingest_alone(
            Path(logs), sms=args.sms, concurrency=args.concurrency, log_level=args.log_level, rounds=args.rounds
        )
        print(f"ingest alone: {', '.join(f'{rate:,.0f}' for rate in alone.accepted_per_s)} accepted/s")
        for index, matchers in enumerate(args.matchers):
            async with running(Path(logs), matchers=matchers, log_level=args.log_level) as deployment:
                run = await _beside_the_broker(
                    end_to_end(deployment, matchers=matchers, sms=args.sms, concurrency=args.concurrency), args.sms
                )
                print(f"end to end, {matchers} matcher(s): {run.verified_per_s:,.0f} verified/s")
                runs.append(run)
                if index == len(args.matchers) - 1:  # on the last deployment: paced latency, the notifier
                    for share in args.offered:
                        load = await paced_latency(
                            deployment, rate=share * raw.broker, seconds=args.paced_s, rounds=args.paced_rounds
                        )
                        print(f"paced at {load.offered_per_s:,.0f}/s: p99 {load.p99_ms:.0f} ms")
                        paced.append(load)
                    sockets = await idle_sockets(deployment, args.sockets)
        if args.redis_cluster:
            runs.append(await _on_a_redis_cluster(Path(logs), args))
    raw = replace(raw, broker_after=(await amqp_round_trip(AMQP_URL, args.sms)).per_s)
    if abs(raw.broker_drift) > STEADY_WITHIN:
        print(f"the broker yardstick moved {raw.broker_drift:+.0%} during the run: compare ratios with care")
    memory = await bytes_per_pending_challenge(REDIS_URL, args.challenges)
    table = _table(raw, alone, runs, paced, memory, sockets)
    print("\n" + table)
    if args.append:
        results.append(table, args.label)


async def _beside_the_broker(measuring: Awaitable[EndToEnd], messages: int) -> EndToEnd:
    """The run, with the broker yardstick measured just before and just after it."""
    before = await amqp_round_trip(AMQP_URL, messages)
    run = await measuring
    after = await amqp_round_trip(AMQP_URL, messages)
    return replace(
        run, broker_beside=(before.per_s + after.per_s) / 2, broker_beside_cpu_ms=(before.cpu_ms + after.cpu_ms) / 2
    )


async def _on_a_redis_cluster(logs: Path, args: argparse.Namespace) -> EndToEnd:
    """The last end-to-end run again, on a private 3-primary Redis Cluster on this machine.

    Its shards share the same two cores as everything else, so this shows what the cluster's
    routing costs here, not what more machines would add.
    """
    matchers = args.matchers[-1]
    cluster = OwnRedisCluster(logs / "redis-cluster")
    await cluster.start()
    try:
        async with running(
            logs,
            matchers=matchers,
            log_level=args.log_level,
            REVOTP_REDIS_URL=cluster.url,
            REVOTP_REDIS_CLUSTER="1",
        ) as deployment:
            label = f"{len(cluster.nodes) // 2}-primary cluster"
            run = await _beside_the_broker(
                end_to_end(deployment, matchers=matchers, sms=args.sms, concurrency=args.concurrency, redis=label),
                args.sms,
            )
    finally:
        await cluster.stop()
    print(f"end to end on a Redis Cluster, {matchers} matcher(s): {run.verified_per_s:,.0f} verified/s")
    return run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--sms", type=int, default=5000, help="SMS per end-to-end run and messages of the raw run")
    parser.add_argument("--challenges", type=int, default=100_000, help="pending challenges for the memory measurement")
    parser.add_argument("--sockets", type=int, default=10_000, help="idle tenant sockets for the notifier figures")
    parser.add_argument("--concurrency", type=int, default=128, help="webhooks in flight")
    parser.add_argument(
        "--matchers", type=lambda value: [int(n) for n in value.split(",")], default=[1, 2], help="e.g. 1,2"
    )
    parser.add_argument(
        "--offered",
        type=lambda value: [float(n) for n in value.split(",")],
        default=[0.125, 0.25, 0.5],
        help="paced runs at these shares of the raw broker rate (latency at a fixed offered load)",
    )
    parser.add_argument("--paced-s", type=float, default=3.0, help="seconds of sending per paced round")
    parser.add_argument("--paced-rounds", type=int, default=3, help="rounds per offered load, their latencies pooled")
    parser.add_argument(
        "--rounds", type=int, default=3, help="ingest-alone rounds, each after a run of the do-nothing handler"
    )
    parser.add_argument(
        "--redis-cluster", action="store_true", help="also run end to end on a private Redis Cluster (3 primaries)"
    )
    parser.add_argument("--log-level", default="info", help="REVOTP_LOG_LEVEL of the services (default: as shipped)")
    parser.add_argument("--append", action="store_true", help="append the table to benchmarks/RESULTS.md")
    parser.add_argument("--label", default="", help="a word for the appended heading (before, after, …)")
    return parser


if __name__ == "__main__":
    # The load client and the raw yardsticks run on uvloop, as revotp's services do: a raw limit
    # measured with a slower event loop would be lower than what the parts underneath allow.
    uvloop.run(main(_parser().parse_args()))
