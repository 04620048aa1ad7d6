"""Logs never carry what a traceback's frames hold: SMS texts and candidate codes live there."""

import pytest
import structlog

from common.logging import configure


@pytest.fixture(autouse=True)
def _unconfigured_afterwards():
    """``configure`` caches loggers on first use; later tests in this process (which capture
    logs) need structlog as it was."""
    yield
    structlog.reset_defaults()


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


def test_revotp_and_library_lines_are_both_one_json_object_each(capsys):
    import json
    import logging

    configure(json=True, level="info")
    structlog.get_logger("revotp.test").info("own_line", count=2)
    structlog.get_logger("revotp.test").debug("below_the_level")
    logging.getLogger("aiohttp.test").warning("library line")
    lines = capsys.readouterr().err.splitlines()
    own, library = (json.loads(line) for line in lines)  # exactly two: the debug line was dropped
    assert (own["event"], own["count"], own["logger"], own["level"]) == ("own_line", 2, "revotp.test", "info")
    assert (library["event"], library["logger"], library["level"]) == ("library line", "aiohttp.test", "warning")
