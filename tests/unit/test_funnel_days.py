"""Funnel counters are filed under the UTC date of their instant."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from common.funnel import day_of


@given(st.integers(min_value=0, max_value=4_102_444_800_000))
@example(86_399_999)
@example(86_400_000)
@example(1_798_761_599_999)  # the last instant of 2026
def test_the_day_of_an_instant_is_its_utc_date(ms: int):
    assert day_of(ms) == datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()
