"""``benchmarks/RESULTS.md``: where every benchmark command's ``--append`` writes its table."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def append(table: str, label: str = "") -> None:
    """The table under a heading with the date, the machine and ``label``."""
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with RESULTS.open("a") as results:
        results.write(f"\n### {stamp} — {machine}{' — ' + label if label else ''}\n\n{table}\n")
    print(f"\nappended to {RESULTS}")
