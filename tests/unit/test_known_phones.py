"""A phone a challenge was created for is not read again when its SMS names it."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from common import phones
from common.phones import read_delivered_number, remember_phone, to_e164

MOBILE = PhoneNumberType.MOBILE
E164 = PhoneNumberFormat.E164


def test_a_remembered_phone_is_its_own_reading_without_phonenumbers(monkeypatch: pytest.MonkeyPatch):
    remember_phone("+33612345678")
    monkeypatch.setattr(phones, "_read_delivered_number", lambda raw, region: pytest.fail("read again"))
    assert read_delivered_number("+33612345678", "US") == "+33612345678"
    assert read_delivered_number("+33612345678", None) == "+33612345678"


def test_other_spellings_of_a_remembered_phone_are_still_read():
    remember_phone("+33612345678")
    assert read_delivered_number("0612345678", "FR") == "+33612345678"
    assert read_delivered_number("33612345678", "US") == "+33612345678"
    assert read_delivered_number("BANK", "FR") is None


def test_the_memory_is_bounded_and_forgets_the_oldest_first(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(phones, "PHONES_KNOWN", 3)
    monkeypatch.setattr(phones, "_phones_known", {})
    for number in ("+33612345671", "+33612345672", "+33612345673"):
        remember_phone(number)
    remember_phone("+33612345671")  # seen again: the newest now
    remember_phone("+33612345674")
    assert list(phones._phones_known) == ["+33612345673", "+33612345671", "+33612345674"]


def test_remembering_never_changes_what_a_delivered_number_reads_as():
    examples = [phonenumbers.example_number_for_type(region, MOBILE) for region in phonenumbers.SUPPORTED_REGIONS]
    valid = [to_e164(phonenumbers.format_number(n, E164), None, strict=True) for n in examples if n is not None]
    assert len(valid) > 200  # every region with a numbering plan
    for phone in filter(None, valid):
        before = [read_delivered_number(phone, region) for region in (None, "US", "FR", "ZZ")]
        remember_phone(phone)
        assert [read_delivered_number(phone, region) for region in (None, "US", "FR", "ZZ")] == before
        assert before == [phone] * 4
