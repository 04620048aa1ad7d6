"""structlog setup, run once per process: console lines on a terminal, JSON otherwise.

revotp's own lines skip the standard library's logging machinery: a filtering bound logger
drops lines below the level before any work, and the rest are rendered once (msgspec for JSON)
and written straight to stderr. Ingest and the matcher write a line per SMS at info, so the
cost per line counts (benchmarks/RESULTS.md). Libraries' lines (aiohttp, aio-pika) still come
through ``logging`` and are rendered by the same processors, so both look alike.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import structlog
from structlog.tracebacks import ExceptionDictTransformer

_ENCODER = msgspec.json.Encoder(enc_hook=str)


def _encode(event: Any, **_: Any) -> str:
    return _ENCODER.encode(event).decode()


class _StderrLogger:
    """Writes each rendered line to stderr; carries the module name ``add_logger_name`` reads.

    ``sys.stderr`` is looked up at each line, not kept: it may be replaced after the first use
    (a test capturing output). Python line-buffers stderr, so each line is one write.
    """

    def __init__(self, *args: Any) -> None:
        self.name = str(args[0]) if args else ""

    def msg(self, line: str) -> None:
        sys.stderr.write(line + "\n")

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def configure(*, json: bool | None = None, level: str = "info") -> None:
    json = not sys.stderr.isatty() if json is None else json
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor
    # Tracebacks never carry frame locals: they would hold SMS texts and candidate codes.
    if json:
        shared.append(structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)))
        renderer = structlog.processors.JSONRenderer(serializer=_encode)
    else:
        renderer = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    structlog.configure(
        processors=[*shared, renderer],
        logger_factory=_StderrLogger,
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)
    # aio-pika/aiormq narrate every reconnect attempt at INFO; keep their warnings only.
    for noisy in ("aio_pika", "aiormq"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


_said: set[tuple[object, ...]] = set()


def first_time(*what: object) -> bool:
    """True the first time this process reports ``what``: `revotp all` runs four services in one
    process, and their shared startup steps would each say the same line."""
    if what in _said:
        return False
    _said.add(what)
    return True
