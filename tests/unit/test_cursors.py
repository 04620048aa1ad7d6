"""Which resume cursors are refused, and when a resume reports a gap (pure rules, no Redis)."""

import pytest

from common.errors import MalformedInput
from notifier.cursors import EMPTY_LOG, LogBounds, parse, resume_gap

TRIMMED = LogBounds(first=(100, 0), last_generated=(300, 2), entries_added=10, length=5)
WHOLE = LogBounds(first=(100, 0), last_generated=(300, 2), entries_added=5, length=5)


@pytest.mark.parametrize("cursor", ["", "1", "1-", "-1", "a-1", "1-1-1", "18446744073709551616-0", "1-" + "9" * 21])
def test_malformed_or_out_of_range_cursors_are_refused(cursor):
    with pytest.raises(MalformedInput) as refused:
        parse(cursor)
    assert refused.value.code == "invalid_cursor"


def test_the_largest_stream_id_is_a_cursor():
    assert parse("18446744073709551615-18446744073709551615") == (2**64 - 1, 2**64 - 1)


@pytest.mark.parametrize("cursor", ["300-3", "301-0"])
def test_a_cursor_past_the_last_generated_id_is_in_the_future(cursor):
    with pytest.raises(MalformedInput) as refused:
        resume_gap(cursor, WHOLE)
    assert refused.value.code == "cursor_in_the_future"


def test_any_cursor_but_the_origin_is_in_the_future_of_a_log_never_written():
    assert resume_gap("0-0", EMPTY_LOG) is False
    with pytest.raises(MalformedInput):
        resume_gap("1-0", EMPTY_LOG)


@pytest.mark.parametrize(
    ("cursor", "bounds", "gap"),
    [
        ("0-0", TRIMMED, False),  # no cursor yet: nothing the client had can be missing
        ("99-0", TRIMMED, True),  # before the oldest entry, and entries were trimmed
        ("100-0", TRIMMED, False),  # the oldest entry itself is still held
        ("300-2", TRIMMED, False),
        ("99-0", WHOLE, False),  # before the log began, nothing was ever trimmed
        ("5-0", LogBounds(None, (300, 2), 10, 0), True),  # all trimmed, events came after the cursor
        ("300-2", LogBounds(None, (300, 2), 10, 0), False),
    ],
)
def test_a_gap_is_reported_only_when_retention_removed_events_after_the_cursor(cursor, bounds, gap):
    assert resume_gap(cursor, bounds) is gap
