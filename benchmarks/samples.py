"""Reading py-spy's collapsed stacks: which functions hold a process's samples.

A collapsed stack is one line per distinct stack, ``outer (file:line);…;inner (file:line) N``:
N samples found the process in that stack. A function's own share counts the samples in which
it was innermost; its share with callees counts every sample it appears in, once.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_LOOP_FILE = "(asyncio/runners.py)"  # uvloop.run and asyncio.run both run the loop from here
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


@dataclass(frozen=True)
class Shares:
    samples: int
    own: list[tuple[str, float]]  # function, share of the samples, largest first
    with_callees: list[tuple[str, float]]


def function_of(frame: str) -> str:
    """``handle (matcher/consumer.py:92)`` → ``handle (matcher/consumer.py)``: one entry per function."""
    matched = _FRAME.match(frame)
    return f"{matched['function']} ({matched['file']})" if matched else frame


def shares(lines: Iterable[str], *, top: int = 20) -> Shares:
    own: Counter[str] = Counter()
    with_callees: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        functions = [function_of(frame) for frame in stack.split(";")]
        own[functions[-1]] += samples  # the loop's own frame: uvloop's C code, its I/O included
        for function in set(_below_the_loop(functions)):
            with_callees[function] += samples
    if not total:
        return Shares(0, [], [])
    return Shares(
        total,
        [(function, samples / total) for function, samples in own.most_common(top)],
        [(function, samples / total) for function, samples in with_callees.most_common(top)],
    )


def _below_the_loop(functions: list[str]) -> list[str]:
    """What the event loop called: the interpreter's entry and the service's start, which
    nearly every sample passes through, say nothing of where the time went."""
    for index in range(len(functions) - 1, -1, -1):
        if functions[index].endswith(_LOOP_FILE):
            return functions[index + 1 :]
    return functions


def table(name: str, found: Shares) -> str:
    """A Markdown table of one process's shares, own and with callees side by side."""
    rows = [
        f"#### {name}: {found.samples:,} samples",
        "",
        "| own | function | with callees | function |",
        "|---|---|---|---|",
    ]
    for own, with_callees in itertools.zip_longest(found.own, found.with_callees):
        rows.append(f"| {_cells(own)} | {_cells(with_callees)} |")
    return "\n".join(rows)


def _cells(entry: tuple[str, float] | None) -> str:
    return f"{entry[1]:.1%} | `{entry[0]}`" if entry else " | "
