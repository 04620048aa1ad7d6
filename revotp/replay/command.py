"""``revotp replay``: send an SMS stream to a running ingest and match every verdict to its SMS.

The order of a run: plan (read a file, or create challenges), measure the client's own ceiling
against a do-nothing endpoint, open the tenant socket, send with a live progress bar, wait for
the last verdicts, then print the table and write the JSON report and the plot. The arguments
are in ``arguments.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import aiohttp
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from common.bootstrap import first_api_key
from common.settings import Limit, Settings
from revotp import demo
from revotp.replay import plot
from revotp.replay.ceiling import client_ceiling
from revotp.replay.heap import frozen_heap
from revotp.replay.listener import Listener, ListenError
from revotp.replay.plan import VERDICT_TYPES, Mix, PlanError, PlannedSms, Synthetic, read_jsonl
from revotp.replay.report import Report, match_verdicts, summarise
from revotp.replay.sender import Pace, Sent, Target, new_counters, send_plan, totals
from revotp.replay.tables import print_report
from revotp.replay.webhooks import CannotSign

CEILING_SAMPLE = 3000  # SMS sent to the do-nothing endpoint, at most
CLIENT_BOUND = 0.8  # a run at this share of the client's ceiling measured the client


class UsageError(Exception):
    """The arguments cannot make a replay."""


def _target(settings: Settings, args: argparse.Namespace) -> Target:
    telnyx_key = None
    if args.telnyx_private_key:
        try:
            telnyx_key = base64.b64decode(args.telnyx_private_key, validate=True)
        except binascii.Error:
            raise UsageError("--telnyx-private-key must be base64") from None
    url = args.url or f"http://{_local(settings.host)}:{settings.ingest_port}"
    target = Target(url, args.provider, dict(settings.env), settings.public_url, telnyx_key)
    target.builder()  # refuse an unknown format or a missing secret before anything is sent
    return target


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - a listen address, read


def _pace(args: argparse.Namespace, plan: Sequence[PlannedSms]) -> Pace:
    if args.concurrency < 1 or args.processes < 1:
        raise UsageError("--concurrency and --processes must be at least 1")
    if (args.rate is not None and args.rate <= 0) or (args.speed is not None and args.speed <= 0):
        raise UsageError("--rate and --speed must be positive")
    if args.speed and any(planned.at_s is None for planned in plan):
        raise UsageError("--speed replays recorded timing: every line needs 'at'")
    return Pace(args.concurrency, args.rate, args.speed)


def limits_in_force(settings: Settings) -> dict[str, str]:
    return {
        "REVOTP_NUMBER_RATE_LIMIT": settings.number_rate_limit,
        "REVOTP_SENDER_RATE_LIMIT": settings.sender_rate_limit,
    }


def plan_warnings(settings: Settings, plan: Sequence[PlannedSms], pace: Pace) -> list[str]:
    """What the configured limits will do to this plan, said before it runs."""
    warnings = []
    per_sender = Limit.parse(settings.sender_rate_limit, "REVOTP_SENDER_RATE_LIMIT")
    distinct = Counter(planned.sms.sender for planned in {p.sms.message_id: p for p in plan}.values())
    flooding = sum(1 for count in distinct.values() if count > per_sender.count)
    if flooding:
        warnings.append(
            f"{flooding:,} senders send more than REVOTP_SENDER_RATE_LIMIT={settings.sender_rate_limit} allows: "
            "if within its window, ingest accepts their extra SMS and drops them (no verdict)"
        )
    per_number = Limit.parse(settings.number_rate_limit, "REVOTP_NUMBER_RATE_LIMIT")
    numbers = len({planned.sms.recipient for planned in plan})
    if pace.rate and pace.rate / numbers > per_number.count / per_number.window_s:
        warnings.append(
            f"--rate {pace.rate:,.0f}/s over {numbers} virtual number(s) exceeds "
            f"REVOTP_NUMBER_RATE_LIMIT={settings.number_rate_limit}: expect 429s"
        )
    return warnings


def result_warnings(report: Report) -> list[str]:
    warnings = []
    rate_limited = sum(count for status, count in report.refused.items() if status.startswith("429"))
    if rate_limited:
        warnings.append(
            f"{rate_limited:,} webhooks answered 429: a per-number limit capped this replay "
            f"(REVOTP_NUMBER_RATE_LIMIT={report.limits['REVOTP_NUMBER_RATE_LIMIT']} here)"
        )
    if report.client_ceiling_per_s and report.sent_per_s >= CLIENT_BOUND * report.client_ceiling_per_s:
        warnings.append(
            f"the client sent at {report.sent_per_s / report.client_ceiling_per_s:.0%} of its own ceiling: "
            "the client may be the limit; add --processes"
        )
    if report.as_expected < report.expected:
        warnings.append(f"{report.expected - report.as_expected:,} SMS did not get the verdict expected of them")
    if report.unexplained_verdicts:
        warnings.append(f"{report.unexplained_verdicts:,} verdicts match no SMS of this replay")
    return warnings


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when every expectation held, 1 when a verdict was not the one expected, 2 on bad usage."""
    settings = demo.settings(settings)
    out, err = Console(), Console(stderr=True)
    try:
        if args.plot:
            plot.check_path(args.plot)
        target = _target(settings, args)
        api_key = args.api_key or first_api_key(settings.bootstrap_tenants)
        async with aiohttp.ClientSession() as session:
            plan = (
                read_jsonl(args.file)
                if args.file
                else await Synthetic(session, target.ingest_url, api_key, seed=args.seed).plan(
                    args.synthetic, Mix.parse(args.mix), args.ttl_s
                )
            )
            pace = _pace(args, plan)
            err.print(f"limits in force (this environment): {limits_in_force(settings)}")
            warnings = plan_warnings(settings, plan, pace)
            for warning in warnings:
                err.print(f"[yellow]warning:[/] {warning}")
            ceiling = None
            if not args.no_ceiling:
                sample = plan[:CEILING_SAMPLE]
                ceiling = await client_ceiling(sample, target, pace, processes=args.processes)
                err.print(f"client ceiling (do-nothing endpoint, {len(sample):,} requests): {ceiling:,.0f} req/s")
            notifier = args.notifier_url or f"http://{_local(settings.host)}:{settings.notifier_port}"
            listener = Listener(session, notifier, api_key)
            await listener.open()
            try:
                sent = await _send_and_settle(plan, target, pace, args, listener, err)
            finally:
                await listener.close()
    except (PlanError, UsageError, CannotSign, ListenError, plot.PlotError) as exc:
        err.print(f"[red]revotp replay:[/] {exc}")
        return 2
    outcomes, unexplained, other = match_verdicts(plan, sent, listener.frames)
    report = summarise(outcomes, unexplained, other, paced=bool(args.rate or args.speed))
    report.limits = limits_in_force(settings)
    report.client_ceiling_per_s = ceiling
    report.warnings = warnings + result_warnings(report)
    print_report(out, report, title=f"revotp replay — {len(plan):,} SMS as {args.provider}")
    if args.json:
        args.json.write_text(json.dumps(report.as_json(), indent=2) + "\n")
        err.print(f"report: {args.json}")
    if args.plot:
        plot.write(args.plot, outcomes, report, title=f"revotp replay — {len(plan):,} SMS as {args.provider}")
        err.print(f"plot: {args.plot}")
    return 0 if report.as_expected == report.expected else 1


def _expected_verdicts(plan: Sequence[PlannedSms], sent: Sequence[Sent]) -> int | None:
    """How many verdicts the accepted SMS should cause, when every SMS says; else None."""
    if any(planned.expect is None for planned in plan):
        return None
    accepted = {s.index for s in sent if 200 <= s.status < 300}
    return sum(1 for planned in plan if planned.index in accepted and planned.expect in VERDICT_TYPES)


async def _send_and_settle(
    plan: Sequence[PlannedSms], target: Target, pace: Pace, args: argparse.Namespace, listener: Listener, err: Console
) -> list[Sent]:
    """Send everything, then wait for the verdicts, with a live bar of sent, answered and verdicts."""
    counters = new_counters(args.processes)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} sent"),
        TextColumn("{task.fields[answered]:,} answered, {task.fields[verdicts]:,} verdicts"),
        TimeElapsedColumn(),
        console=err,
        disable=args.no_progress or not err.is_terminal,
    )

    async def follow(step: asyncio.Task[Any], description: str) -> None:
        while not step.done():
            sent_count, answered = totals(counters)
            progress.update(
                bar, description=description, completed=sent_count, answered=answered, verdicts=listener.verdicts()
            )
            await asyncio.wait([step], timeout=0.1)

    with progress, frozen_heap():
        bar = progress.add_task("sending", total=len(plan), answered=0, verdicts=0)
        sending = asyncio.create_task(send_plan(plan, target, pace, processes=args.processes, counters=counters))
        await follow(sending, "sending")
        sent = sending.result()
        expected = _expected_verdicts(plan, sent)
        settling = asyncio.create_task(listener.settle(expected=expected, quiet_s=1.0, limit_s=args.wait_s))
        await follow(settling, "verdicts")
        settling.result()
    return sent
