"""The ``revotp replay`` command line, apart from the tool so that ``revotp --help`` imports nothing heavy."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = """Send an SMS stream to a running ingest and match every verdict on the tenant socket to
its SMS. A run plans (reads the file, or creates challenges), measures the client's own ceiling
against a do-nothing endpoint, sends with a live progress bar, waits for the last verdicts, then
prints a table and writes the JSON report and the plot. Exit status: 0 when every expected verdict
came, 1 when one did not, 2 on bad usage."""


def add_arguments(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = commands.add_parser(
        "replay",
        help="replay an SMS stream against a running ingest and measure every verdict",
        description=DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    source = replay.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", type=Path, help='JSONL, one {"from","to","text","id"?,"at"?} per line')
    source.add_argument("--synthetic", type=int, metavar="N", help="create N challenges and answer each once")
    replay.add_argument("--mix", default="right=80,wrong=10,unknown=5,duplicate=5", help="synthetic SMS by kind")
    replay.add_argument("--ttl-s", type=int, default=900, help="ttl_seconds of synthetic challenges")
    replay.add_argument("--seed", type=int, help="seed of the synthetic mix's order")
    replay.add_argument("--provider", default="generic", help="the webhook format to send, signed as the provider")
    pace = replay.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=float, help="a steady SMS/s (default: as fast as --concurrency allows)")
    pace.add_argument("--speed", type=float, help="the file's recorded timing ('at'), this many times faster")
    replay.add_argument("--concurrency", type=int, default=64, help="webhooks in flight, over all processes")
    replay.add_argument("--processes", type=int, default=1, help="sender processes, when one client is the limit")
    replay.add_argument("--url", help="ingest's base URL (default: REVOTP_HOST and REVOTP_INGEST_PORT)")
    replay.add_argument("--notifier-url", help="the notifier's base URL (default: REVOTP_HOST, REVOTP_NOTIFIER_PORT)")
    replay.add_argument("--api-key", help="the tenant's API key (default: the first bootstrap or demo tenant's)")
    replay.add_argument("--telnyx-private-key", help="base64 of the Ed25519 key matching REVOTP_TELNYX_SECRET")
    replay.add_argument("--json", type=Path, help="write the report as JSON here")
    replay.add_argument("--plot", type=Path, help="latency over time: a .png, .svg or .html file")
    replay.add_argument("--wait-s", type=float, default=30.0, help="longest wait for verdicts after the last send")
    replay.add_argument("--no-ceiling", action="store_true", help="skip measuring the client's own ceiling")
    replay.add_argument("--no-progress", action="store_true", help="no live progress bar")
