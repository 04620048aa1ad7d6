"""The one pause of every retry loop: doubling, capped, jittered within [half, all], reset on success."""

import pytest

from common.backoff import Backoff


def test_pauses_double_up_to_the_cap_each_drawn_between_half_and_all_of_its_ceiling():
    backoff = Backoff(first_s=0.1, max_s=1.0)
    ceilings = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    for ceiling in ceilings:
        assert ceiling / 2 <= backoff.next_delay() <= ceiling


def test_reset_starts_over_from_the_first_pause():
    backoff = Backoff(first_s=0.1, max_s=10.0)
    for _ in range(6):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() <= 0.1


def test_the_jitter_spreads_processes_that_wait_together():
    delays = {Backoff(first_s=1.0, max_s=1.0).next_delay() for _ in range(50)}
    assert len(delays) > 40


@pytest.mark.parametrize(("first_s", "max_s"), [(0, 1), (-1, 1), (2, 1)])
def test_a_backoff_that_cannot_pause_is_refused(first_s: float, max_s: float):
    with pytest.raises(ValueError, match="first_s"):
        Backoff(first_s=first_s, max_s=max_s)
