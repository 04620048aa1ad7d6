"""Reading providers' reception times: what cannot be read is no time at all, never a stale one."""

from __future__ import annotations

import pytest

from common.clock import provider_time_ms

NOV_21 = 1_763_708_401_000  # 2025-11-21T07:00:01Z


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2025-11-21T07:00:01Z", NOV_21),
        ("2025-11-21T07:00:01.000+00:00", NOV_21),
        ("2025-11-21T08:00:01+01:00", NOV_21),
        ("2025-11-21 07:00:01", None),  # no zone: which one is unknown
        ("1763708401", NOV_21),  # Unix seconds
        ("1763708401000", NOV_21),  # Unix milliseconds
        (None, None),
        ("", None),
        ("yesterday", None),
        ("21/11/2025 07:00", None),
        ("12345", None),
    ],
)
def test_provider_times(stamp: str | None, expected: int | None):
    assert provider_time_ms(stamp) == expected


def test_a_time_without_a_zone_counts_where_the_provider_documents_utc():
    assert provider_time_ms("2025-11-21 07:00:01", zoneless_is_utc=True) == NOV_21
