"""The benchmark command still works end to end (a smoke run: how fast is the benchmark's own business)."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest


async def printed_by(module: str, *args: str, within: float) -> str:
    """What ``python -m <module> <args>`` prints, once it has exited 0."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode == 0, stderr.decode()[-2000:]
    return stdout.decode()


@pytest.mark.single_redis  # the benchmark measures the one server on this machine
async def test_a_small_benchmark_run_prints_every_ratio():
    table = await printed_by(
        "benchmarks",
        "--sms", "60", "--matchers", "1", "--challenges", "200", "--sockets", "20", "--offered", "0.005",
        "--paced-s", "1", "--paced-rounds", "2", "--rounds", "2", "--redis-cluster",
        within=120,
    )  # fmt: skip
    assert "REVOTP_NUMBER_RATE_LIMIT=" in table  # the limits in force are printed
    ratios = [float(ratio) for ratio in re.findall(r"\| (\d+\.\d\d)x(?: broker| web)? \|", table)]
    # Three raw yardsticks, ingest alone, then on one Redis and on a cluster: verified against
    # the first yardstick and against the broker measured beside the run, and accepted; creation.
    assert len(ratios) == 11
    assert "Redis 3-primary cluster" in table
    assert ratios[:3] == [1.0, 1.0, 1.0]
    assert all(ratio > 0 for ratio in ratios[3:])
    # The broker yardstick is measured again at the end, and how far it moved is shown.
    assert re.search(r"\| raw broker again, after revotp's runs .* \| [1-9][\d,]* msg/s \| [+-]\d+%", table), table
    # The raw path's CPU per message, by side, and each run's ratio in CPU to the path beside it.
    assert re.search(
        r"\| ↳ CPU per message: publisher \d+\.\d\d, consumer \d+\.\d\d, RabbitMQ \d+\.\d\d \| \d+\.\d\d ms", table
    ), table
    in_cpu = re.findall(
        r"\| ↳ the raw path's CPU per message beside this run \(\d+\.\d\d ms\) .* \| (\d+\.\d\d)x in CPU \|", table
    )
    assert len(in_cpu) == 2, table  # a tiny run may count no 10 ms tick of the path's CPU: 0.00x
    # Ingest alone: a ratio per round, each against the do-nothing handler measured just before it.
    assert re.search(r"\| ↳ each round against the do-nothing handler .* \| \d+\.\d\dx, \d+\.\d\dx \| \|", table), table
    # Paced latency: the rounds pooled, and how far each round's p99 strayed.
    paced = re.search(
        r"\| ↳ latency webhook → verdict at [\d,]+/s offered .* in 2 rounds\), p50 / p99 / max "
        r"\| \d+ / (\d+) / \d+ ms \(each round's p99: (\d+) to (\d+)\) \|",
        table,
    )
    assert paced, table
    _, lowest, highest = (int(ms) for ms in paced.groups())
    assert lowest <= highest
    cpu = re.search(r"\| ↳ CPU per verified SMS: (.*) \| (-?[\d.]+) ms \|", table)
    assert cpu, table
    parts = {part: float(ms) for part, ms in (item.rsplit(" ", 1) for item in cpu[1].split(", "))}
    assert set(parts) == {"ingest", "matchers", "notifier", "RabbitMQ", "Redis", "client"}
    # /proc counts in 10 ms ticks, so a small run may show 0 for a part; never less (a test's
    # private broker ending during the run once made Redis negative).
    assert all(ms >= 0 for ms in parts.values()), parts
    assert float(cpu[2]) > 0
    alone = re.search(r"\| ↳ CPU per webhook: (.*) \| (-?[\d.]+) ms \|", table)
    assert alone, table
    assert {item.rsplit(" ", 1)[0] for item in alone[1].split(", ")} == {"ingest", "RabbitMQ", "Redis", "client"}


@pytest.mark.single_redis
async def test_a_short_profile_samples_every_service(tmp_path: Path):
    report = await printed_by(
        "benchmarks.profile", "--sms", "1500", "--seconds", "1", "--top", "5", "--out", str(tmp_path), within=120
    )
    for service in ("ingest", "notifier", "matcher-1"):
        counted = re.search(rf"#### {service}: ([\d,]+) samples", report)
        assert counted, report
        assert int(counted[1].replace(",", "")) > 0, f"py-spy caught nothing of {service}"
        assert (tmp_path / f"{service}.txt").read_text().strip()
    assert "receive_sms (ingest/inbound.py:" in (tmp_path / "ingest.txt").read_text(), "no webhook was caught"


@pytest.mark.single_redis
async def test_instructions_are_counted_for_every_service_and_ingests_yardstick():
    printed = await printed_by("benchmarks.instructions", "--requests", "20", "--concurrency", "4", within=400)
    rows = re.findall(r"^\| ([^|]+?) \| ([\d,]+) \| (.*?) ?\|$", printed, re.MULTILINE)
    assert [figure.split(",")[0] for figure, _, _ in rows] == [
        "do-nothing aiohttp handler",
        "ingest",
        "ingest",
        "do-nothing aiohttp handler",
        "ingest",
        "a matcher (one)",
        "the notifier",
    ], printed
    thousands = [int(count.replace(",", "")) for _, count, _ in rows]
    assert all(count > 0 for count in thousands)
    ratios = [float(cell.removesuffix(" web").removesuffix("x")) for _, _, cell in rows[:5]]
    assert ratios[0] == ratios[3] == 1.0
    # ingest does the handler's work and more: each of its ratios below the yardstick's
    assert all(0 < ratio < 1 for ratio in (ratios[1], ratios[2], ratios[4])), ratios
    # its own figures: each is the yardstick's instructions over ingest's
    assert abs(ratios[1] - thousands[0] / thousands[1]) < 0.02
    # a matcher and the notifier have no yardstick: no ratio
    assert [cell for _, _, cell in rows[5:]] == ["", ""]
