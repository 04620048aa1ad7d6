"""Every ``revotp`` command the runbook tells an operator to type is one the CLI accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from revotp.cli import _parser

RUNBOOK = Path(__file__).parents[2] / "docs" / "runbook.md"
# The runbook's placeholders, as an operator would fill them in.
EXAMPLES = {"ID": "0f3c9a", "TENANT": "acme", "KEY_ID": "k1", "NAME": "initech"}


def runbook_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```\n(.*?)```", RUNBOOK.read_text(), flags=re.DOTALL):
        for line in block.splitlines():
            command = line.split("#", 1)[0].strip()
            if command.startswith("revotp "):
                commands.append(command)
    inline = re.findall(r"`(revotp [^`]+)`", RUNBOOK.read_text())
    return commands + inline


def test_the_runbook_has_commands():
    assert len(runbook_commands()) >= 10


@pytest.mark.parametrize("command", runbook_commands())
def test_each_runbook_command_parses(command: str):
    words = [EXAMPLES.get(word, word) for word in shlex.split(command)[1:]]
    _parser().parse_args(words)  # argparse exits on anything it does not accept
