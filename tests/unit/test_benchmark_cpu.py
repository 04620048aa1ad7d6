"""CPU per part: a process that ended during the run counts nothing, never a negative figure."""

from __future__ import annotations

import os

from benchmarks.cpu import cpu_seconds, snapshot, spent


def test_a_process_that_ended_during_the_run_is_left_out():
    before = {"Redis": {1: 5.0, 2: 20.0}, "client": {3: 1.0}}
    after = {"Redis": {1: 5.5, 2: 0.0}, "client": {3: 1.25}}  # pid 2 ended: /proc had no entry
    assert spent(before, after) == {"Redis": 0.5, "client": 0.25}


def test_this_process_has_spent_some_cpu():
    parts = {"client": [os.getpid()]}
    first = snapshot(parts)
    sum(n * n for n in range(200_000))  # some work of its own
    assert spent(first, snapshot(parts))["client"] >= 0.0
    assert cpu_seconds(os.getpid()) > 0.0
    assert cpu_seconds(2**22 + 12345) == 0.0  # no such process
