"""Logs never carry what a traceback's frames hold: SMS texts and candidate codes live there."""

import pytest
import structlog

from common.logging import configure

# Built at run time, so that only a leak of frame values (not a source line) could show it.
SECRET = "".join(["48", "39", "20"])  # noqa: FLY002 - never written whole in this file


def _judge(text: str) -> None:
    candidate = text.split()[-1]
    raise RuntimeError(f"failed on {len(text)} characters and {len(candidate)} digits")


@pytest.mark.parametrize("json", [True, False])
def test_a_logged_exception_shows_no_local_values(json, capsys):
    configure(json=json)
    try:
        _judge(f"my code {SECRET}")
    except RuntimeError:
        structlog.get_logger("test").exception("sms_failed")
    logged = capsys.readouterr().err
    assert "sms_failed" in logged
    assert "RuntimeError" in logged
    assert SECRET not in logged
