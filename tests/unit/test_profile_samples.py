"""py-spy's collapsed stacks read into each function's share of a process's samples."""

from __future__ import annotations

import pytest

from benchmarks.samples import function_of, shares, table

LOOP = "_run_module_as_main (<frozen runpy>:198);Runner.run (asyncio/runners.py:118)"
STACKS = [
    f"{LOOP} 30",
    f"{LOOP};handle (matcher/consumer.py:92);judge (matcher/judge.py:97) 50",
    f"{LOOP};handle (matcher/consumer.py:95);ack (aio_pika/message.py:10) 15",
    "judge (matcher/judge.py:99) 5",  # a coroutine resumed straight from the loop's C code
]


def test_a_frame_names_its_function_without_the_line():
    assert function_of("handle (matcher/consumer.py:92)") == "handle (matcher/consumer.py)"
    assert function_of("<module> (ingest/__main__.py:6)") == "<module> (ingest/__main__.py)"
    assert function_of("odd frame") == "odd frame"


def test_own_counts_the_innermost_frame_and_with_callees_each_function_once_per_sample():
    found = shares(STACKS)
    assert found.samples == 100
    assert dict(found.own) == pytest.approx({"judge (matcher/judge.py)": 0.55, "Runner.run (asyncio/runners.py)": 0.30,
                                             "ack (aio_pika/message.py)": 0.15})  # fmt: skip
    # What the loop called, not the interpreter's entry nor the loop itself.
    assert dict(found.with_callees) == pytest.approx({"handle (matcher/consumer.py)": 0.65,
                                                      "judge (matcher/judge.py)": 0.55,
                                                      "ack (aio_pika/message.py)": 0.15})  # fmt: skip
    assert found.with_callees[0][0] == "handle (matcher/consumer.py)"  # largest first


def test_no_samples_is_an_empty_profile_not_an_error():
    assert shares([]) == shares(["", "not a stack"])
    assert shares([]).samples == 0


def test_the_table_puts_both_rankings_side_by_side_and_pads_the_shorter():
    rendered = table("matcher-1", shares(["a (f.py:1);b (g.py:2) 3", "a (f.py:1) 1"], top=5)).splitlines()
    assert rendered[0] == "#### matcher-1: 4 samples"
    assert rendered[4:] == [
        "| 75.0% | `b (g.py)` | 100.0% | `a (f.py)` |",
        "| 25.0% | `a (f.py)` | 75.0% | `b (g.py)` |",
    ]
    uneven = table(
        "x", shares(["Runner.run (asyncio/runners.py:1) 1", "Runner.run (asyncio/runners.py:1);a (f.py:1) 1"])
    )
    assert uneven.splitlines()[-1] == "| 50.0% | `a (f.py)` |  |  |"
