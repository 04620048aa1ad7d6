"""Prometheus's own checker (Debian's ``prometheus`` package, installed by bin/ensure-tools)."""

from __future__ import annotations

import subprocess


def promtool(*args: str, stdin: bytes = b"") -> tuple[int, str]:
    """``promtool <args>``: its exit code and everything it printed."""
    done = subprocess.run(["promtool", *args], input=stdin, capture_output=True, check=False)  # noqa: S603, S607
    return done.returncode, (done.stdout + done.stderr).decode()
