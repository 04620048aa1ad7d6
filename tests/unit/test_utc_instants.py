"""Instants as the wire and the funnel write them: UTC, to the millisecond or the day."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from common.clock import iso_ms
from common.funnel import day_of


@given(st.integers(min_value=0, max_value=4_102_444_800_000))
@example(86_399_999)
@example(86_400_000)
@example(1_798_761_599_999)  # the last instant of 2026
def test_the_day_of_an_instant_is_its_utc_date(ms: int):
    assert day_of(ms) == datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


@given(st.integers(min_value=0, max_value=4_102_444_800_000))
@example(0)
@example(1_790_000_000_999)
def test_an_instant_on_the_wire_is_its_utc_time_to_the_millisecond(ms: int):
    expected = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"
    assert iso_ms(ms) == expected
