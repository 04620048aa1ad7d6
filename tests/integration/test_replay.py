"""``revotp replay`` against real processes: every verdict matched to its SMS, and a wrong one caught."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.chaos.deployment import Deployment
from tests.integration.conftest import ACME_KEY
from tests.support.processes import run_revotp


@pytest.fixture
async def deployment(namespace: str, tmp_path: Path, cleanup: None) -> AsyncIterator[Deployment]:
    running = Deployment(namespace, tmp_path)
    await running.start_ready("ingest", "notifier", "matcher-1")
    yield running
    await running.close()


def replay_env(deployment: Deployment) -> dict[str, str]:
    return {**os.environ, **deployment.env}


def endpoints(deployment: Deployment) -> list[str]:
    return [
        f"--url={deployment.url('ingest')}",
        f"--notifier-url={deployment.url('notifier')}",
        f"--api-key={ACME_KEY}",
        "--no-progress",
    ]


async def test_a_synthetic_replay_in_a_provider_format_matches_every_verdict(deployment: Deployment, tmp_path: Path):
    report_path, plot_path = tmp_path / "report.json", tmp_path / "latency.png"
    code, stdout, stderr = await run_revotp(
        replay_env(deployment),
        "replay",
        "--synthetic=40",
        "--provider=twilio",  # signed over the URL and the form, in two sender processes
        "--processes=2",
        "--concurrency=8",
        "--seed=7",
        "--no-ceiling",  # measured in the next test: here it would cost two more sender processes
        f"--json={report_path}",
        f"--plot={plot_path}",
        *endpoints(deployment),
        timeout_s=90,
    )
    assert code == 0, stderr[-3000:]
    report = json.loads(report_path.read_text())
    # 40 challenges: 36 answered right, 4 wrong; 2 SMS from unknown phones, 2 provider retries.
    assert report["planned"] == report["sent"] == report["accepted"] == 44
    assert report["verdicts"] == {"challenge.verified": 36, "challenge.attempt_failed": 4, "none": 4}
    assert report["expected"] == report["as_expected"] == 44
    assert report["mismatches"] == []
    assert report["unexplained_verdicts"] == 0
    assert set(report["latency_ms"]) == {"p50", "p90", "p99", "max"}
    assert 0 < report["latency_ms"]["p50"] <= report["latency_ms"]["max"]
    assert report["client_ceiling_per_s"] is None
    assert report["limits"]["REVOTP_NUMBER_RATE_LIMIT"] == "2000/1"
    assert plot_path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "revotp replay — 44 SMS as twilio" in stdout
    assert "limits in force" in stderr


async def test_a_recorded_stream_reports_the_verdict_that_was_not_expected(deployment: Deployment, tmp_path: Path):
    right = await deployment.create("+33612345671")
    wrong = await deployment.create("+33612345672")
    now = time.time()
    lines = [
        {"from": right["phone"], "to": right["virtual_number"], "text": right["code"], "at": now,
         "expect": "challenge.verified"},
        # A false expectation: this SMS carries no code of its challenge, so it cannot verify it.
        {"from": wrong["phone"], "to": wrong["virtual_number"], "text": "000000", "at": now + 0.2,
         "expect": "challenge.verified"},
        {"from": "+33712345679", "to": right["virtual_number"], "text": right["code"], "at": now + 0.4},
    ]  # fmt: skip
    stream = tmp_path / "stream.jsonl"
    stream.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report_path = tmp_path / "report.json"
    code, _, stderr = await run_revotp(
        replay_env(deployment),
        "replay",
        str(stream),
        "--speed=4",
        "--wait-s=10",
        f"--json={report_path}",
        *endpoints(deployment),
        timeout_s=60,
    )
    assert code == 1, stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["accepted"] == 3
    assert report["verdicts"] == {"challenge.verified": 1, "challenge.attempt_failed": 1, "none": 1}
    assert (report["expected"], report["as_expected"]) == (2, 1)
    [mismatch] = report["mismatches"]
    assert (mismatch["from"], mismatch["expected"], mismatch["observed"]) == (
        wrong["phone"],
        "challenge.verified",
        "challenge.attempt_failed",
    )
    assert "did not get the verdict expected of them" in stderr + report["warnings"][-1]
    assert report["sending_s"] >= 0.09  # --speed=4 spread 0.4 s of recorded time over 0.1 s
    assert report["client_ceiling_per_s"] > 0
    assert "client ceiling (do-nothing endpoint, 3 requests)" in stderr


async def test_a_replay_that_cannot_run_says_why_and_sends_nothing(deployment: Deployment, tmp_path: Path):
    code, _, stderr = await run_revotp(
        replay_env(deployment), "replay", "--synthetic=5", f"--plot={tmp_path / 'plot.gif'}", *endpoints(deployment)
    )
    assert code == 2
    assert "--plot: plot.gif must end in .png, .svg, .html" in stderr
    # Refused before planning: not one challenge was created.
    async with deployment.session.get(deployment.url("ingest") + "/metrics") as response:
        exposition = await response.text()
    assert "\nrevotp_ingest_challenges_created_total 0.0\n" in exposition
