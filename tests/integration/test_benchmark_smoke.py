"""The benchmark command still works end to end (a smoke run: how fast is the benchmark's own business)."""

from __future__ import annotations

import asyncio
import re
import sys


async def test_a_small_benchmark_run_prints_every_ratio():
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks",
        "--sms",
        "60",
        "--matchers",
        "1",
        "--challenges",
        "200",
        "--sockets",
        "20",
        "--offered",
        "0.005",
        "--paced-s",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()[-2000:]
    table = stdout.decode()
    assert "REVOTP_NUMBER_RATE_LIMIT=" in table  # the limits in force are printed
    ratios = [float(ratio) for ratio in re.findall(r"\| (\d+\.\d\d)x(?: broker| web)? \|", table)]
    assert len(ratios) == 5  # two raw yardsticks, then verified, accepted and creation
    assert ratios[:2] == [1.0, 1.0]
    assert all(ratio > 0 for ratio in ratios[2:])
    assert re.search(r"\| ↳ latency webhook → verdict at [\d,]+/s offered .* \| \d+ / \d+ / \d+ ms \|", table)
    cpu = re.search(r"\| ↳ CPU per verified SMS: ingest ([\d.]+), matchers ([\d.]+), .* \| ([\d.]+) ms \|", table)
    assert cpu, table
    assert 0 < float(cpu[1]) <= float(cpu[3])  # ingest did work, and is part of the total
    # 200 challenges are too few for a meaningful figure (other writers add noise): only its presence.
    assert re.search(r"\| Redis memory per pending challenge \| -?[\d,]+ B \|", table)
