"""Misconfiguration stops a process at start with one clear line, never on a request."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.integration.conftest import deployment_env


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REVOTP_SINCH_ALLOWED_IPS", "10.0.0.0/8, not-a-network"),
        ("REVOTP_VONAGE_SIGNATURE_METHOD", "sha3"),
        ("REVOTP_PLIVO_SIGNATURE_VERSIONS", "v4"),
        ("REVOTP_PLIVO_V2_NONCE_DAYS", "forever"),
        ("REVOTP_TELNYX_SECRET", "not base64!"),
        ("REVOTP_BANDWIDTH_BASIC_AUTH", "no-colon"),
        ("REVOTP_KANNEL_NUMBER", "BANK"),
        ("REVOTP_AWS_SNS_CERT_HOSTS", "(unclosed"),
        ("REVOTP_SECRET_KEY", "short"),
        ("REVOTP_LOG_LEVEL", "loud"),
    ],
)
def test_a_bad_option_stops_ingest_at_start_with_one_line(namespace: str, variable: str, value: str):
    env = {**os.environ, **deployment_env(namespace), variable: value}
    done = subprocess.run(
        [sys.executable, "-m", "ingest"], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("revotp: ")
    assert variable in lines[0]
