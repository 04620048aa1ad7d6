"""CPU time per process from ``/proc`` (Linux): where the machine's cores went during a run.

Counted for revotp's own processes, the load client (this process), and every RabbitMQ
(``beam.smp``) and Redis (``redis-server``) process on the machine, since those serve the run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
BROKERS = {"beam.smp": "RabbitMQ", "redis-server": "Redis"}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime, stime (fields 14 and 15)


def broker_pids() -> dict[str, list[int]]:
    """The machine's RabbitMQ and Redis processes, by part name."""
    found: dict[str, list[int]] = {name: [] for name in BROKERS.values()}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if command in BROKERS:
                found[BROKERS[command]].append(int(entry.name))
    return found


Snapshot = dict[str, dict[int, float]]


def snapshot(parts: Mapping[str, list[int]]) -> Snapshot:
    """CPU seconds so far of each process of each named part."""
    return {name: {pid: cpu_seconds(pid) for pid in pids} for name, pids in parts.items()}


def spent(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds each part spent in between, over the processes alive at both ends: one that
    ended meanwhile (a test's private broker on a shared machine, say) is left out, not negative."""
    return {
        name: sum(
            max(0.0, after[name][pid] - start) for pid, start in processes.items() if after[name].get(pid, 0.0) > 0.0
        )
        for name, processes in before.items()
    }
