"""The replay tool's pure parts: the synthetic mix, pacing, and matching verdicts to SMS."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from common.codes import Alphabet, is_candidate
from revotp.replay.plan import NO_EVENT, Kind, Mix, PlanError, PlannedSms, _wrong_code, mix_stream, read_jsonl
from revotp.replay.report import match_verdicts, percentiles, summarise
from revotp.replay.sender import Pace, Sent
from revotp.replay.webhooks import Sms


def test_a_mix_gives_each_challenge_one_judged_sms_and_extras_in_proportion():
    assert Mix.parse("right=80,wrong=10,unknown=5,duplicate=5").counts(90) == (80, 10, 5, 5)
    assert Mix.parse("wrong=1,right=0,unknown=0,duplicate=0").counts(7) == (0, 7, 0, 0)
    for bad in ("right=x", "nobody=3", "right=0,wrong=0", "wrong=-1"):
        with pytest.raises(PlanError):
            Mix.parse(bad)


@pytest.mark.parametrize(("code", "alphabet"), [("000000", Alphabet.NUMERIC), ("9Z2A", Alphabet.ALPHANUMERIC)])
def test_a_wrong_code_differs_and_still_costs_an_attempt(code: str, alphabet: Alphabet):
    wrong = _wrong_code(code, alphabet)
    assert wrong != code
    assert len(wrong) == len(code)
    assert set(wrong) <= set(alphabet.symbols)
    assert is_candidate(wrong, alphabet)


def test_a_synthetic_stream_sends_every_retry_after_its_original():
    created = [
        {"phone": f"+3361234567{n}", "virtual_number": "+15550100000", "code": f"12345{n}", "max_attempts": 3}
        for n in range(10)
    ]
    stream = mix_stream(
        created, Mix(right=8, wrong=2, unknown=2, duplicate=3), random.Random(3), unknown_phone=lambda n: f"+337{n}"
    )
    kinds = [planned.kind for planned in stream]
    assert [kinds.count(kind) for kind in (Kind.RIGHT, Kind.WRONG, Kind.UNKNOWN, Kind.DUPLICATE)] == [8, 2, 2, 3]
    assert [planned.index for planned in stream] == list(range(15))
    for index, planned in enumerate(stream):
        if planned.kind is Kind.DUPLICATE:
            first = next(p for p in stream if p.sms == planned.sms)
            assert first.index < index
            assert first.kind in (Kind.RIGHT, Kind.WRONG)
            assert planned.expect == NO_EVENT


def test_recorded_timing_and_a_steady_rate_set_when_each_sms_is_due():
    plan = [PlannedSms(n, Sms("+1", "+2", "x", str(n)), Kind.RECORDED, at_s=100.0 + n) for n in range(3)]
    assert Pace(4, speed=2).offsets(plan) == [0.0, 0.5, 1.0]
    assert Pace(4, rate=10).offsets(plan) == [0.0, 0.1, 0.2]
    assert Pace(4).offsets(plan) == [0.0, 0.0, 0.0]


def test_a_bad_line_is_refused_with_its_place(tmp_path: Path):
    stream = tmp_path / "in.jsonl"
    stream.write_text('{"from": "+1", "to": "+2", "text": "x"}\n\n{"from": "+1", "text": "x"}\n')
    with pytest.raises(PlanError, match=r"in\.jsonl:3: .*to"):
        read_jsonl(stream)
    stream.write_text('{"from": "+1", "to": "+2", "text": "x", "expect": "maybe"}\n')
    with pytest.raises(PlanError, match="expect"):
        read_jsonl(stream)


def _sent(index: int, at: float, status: int = 202) -> Sent:
    return Sent(index, at, at, at + 0.01, status)


def test_a_verdict_goes_to_the_original_not_to_its_retry_and_numbers_compare_by_digits():
    sms = Sms("33612345678", "15550100000", "123456", "m1")  # a provider's format, without '+'
    plan = [
        PlannedSms(0, sms, Kind.RIGHT, "challenge.verified"),
        PlannedSms(1, sms, Kind.DUPLICATE, NO_EVENT),
        PlannedSms(2, Sms("+33700000000", "+15550100000", "1", "m2"), Kind.UNKNOWN, NO_EVENT),
        PlannedSms(3, Sms("+33600000001", "+15550100000", "1", "m3"), Kind.WRONG, "challenge.attempt_failed"),
    ]
    # The retry went out first: the verdict is still the original's.
    sent = [_sent(1, 1.0), _sent(0, 1.1), _sent(2, 1.2), _sent(3, 1.3, status=503)]
    frames = [
        (0.5, {"type": "ready"}),
        (1.5, {"type": "challenge.verified", "phone": "+33612345678", "virtual_number": "+15550100000"}),
        (1.6, {"type": "challenge.verified", "phone": "+33699999999", "virtual_number": "+15550100000"}),
        (1.7, {"type": "challenge.expired", "phone": "+33612345678", "virtual_number": "+15550100000"}),
    ]
    outcomes, unexplained, other = match_verdicts(plan, sent, frames)
    assert [o.observed for o in outcomes] == ["challenge.verified", NO_EVENT, NO_EVENT, NO_EVENT]
    assert [o.as_expected for o in outcomes] == [True, True, True, False]  # the last one was refused
    assert (unexplained, other) == (1, 1)
    report = summarise(outcomes, unexplained, other, paced=False)
    assert report.refused == {"503": 1}
    assert (report.expected, report.as_expected) == (4, 3)
    assert report.mismatches[0]["observed"] == "refused 503"
    assert report.late_ms == {}


def test_percentiles_are_nearest_rank():
    assert percentiles([]) == {}
    assert percentiles([float(n) for n in range(1, 101)]) == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}
    assert percentiles([7.0]) == {"p50": 7.0, "p90": 7.0, "p99": 7.0, "max": 7.0}
