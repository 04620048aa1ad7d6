"""Property-based tests: arbitrary input never crashes a parser, and the matching rules hold for any text."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common import messages
from common.codes import MAX_LENGTH, MIN_LENGTH, Alphabet, generate_code, is_candidate, spec
from common.phones import read_delivered_number, to_e164
from common.settings import from_env
from common.web import ApiError
from ingest.providers import build_providers
from ingest.providers.vonage import signature_base
from matcher.matching import MAX_CANDIDATES, candidates, candidates_by_spec

PROVIDERS = build_providers(from_env({"REVOTP_INSECURE_NO_SIGNATURES": "1"}))
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]
LENGTHS = range(MIN_LENGTH, MAX_LENGTH + 1)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.text(), st.integers(MIN_LENGTH, MAX_LENGTH), st.sampled_from(list(Alphabet)))
def test_candidates_have_the_shape_asked_and_are_bounded(text, length, alphabet):
    found = candidates(text, length, alphabet)
    assert len(found) <= MAX_CANDIDATES
    assert len(set(found)) == len(found)
    for candidate in found:
        assert len(candidate) == length
        assert set(candidate) <= set(alphabet.symbols)


@FAST
@given(
    st.sampled_from(list(Alphabet)),
    st.integers(MIN_LENGTH, MAX_LENGTH),
    st.lists(st.sampled_from(["code", "mon", "voici", "is", "ok", "merci", "!", ":", ","]), max_size=4),
    st.lists(st.sampled_from(["thx", "merci", "bye", "?", ".", "oui"]), max_size=4),
    st.sampled_from(["", " ", "-", "."]),
    st.data(),
)
def test_a_code_in_ordinary_words_is_always_found(alphabet, length, before, after, separator, data):
    code = generate_code(length, alphabet)
    # Split the code at one place with a single separator, as people type it.
    cut = data.draw(st.integers(1, length - 1)) if separator else length
    typed = code[:cut] + separator + code[cut:] if separator else code
    text = " ".join([*before, typed.lower(), *after])  # typed in any case
    # Words written only in the alphabet ("bye") may be candidates too; the code is among them.
    assert code in candidates(text, length, alphabet)


@FAST
@given(st.text(max_size=2000))
def test_candidates_by_spec_never_fails(text):
    shapes = {spec(alphabet, length): (alphabet, length) for alphabet in Alphabet for length in LENGTHS}
    for name, found in candidates_by_spec(text).items():
        alphabet, length = shapes[name]
        assert 0 < len(found) <= MAX_CANDIDATES
        for code in found:
            assert len(code) == length
            assert set(code) <= set(alphabet.symbols)
            assert is_candidate(code, alphabet)


@FAST
@given(st.text(max_size=40), st.sampled_from([None, "US", "FR", "GB", "ZZ", "xx"]))
def test_phone_reading_never_fails(raw, region):
    for number in (to_e164(raw, region), to_e164(raw, region, strict=True), read_delivered_number(raw, region)):
        assert number is None or (number.startswith("+") and number[1:].isdigit())


@FAST
@given(st.binary(max_size=600))
def test_a_queue_message_is_an_inbound_sms_or_a_poison_message(body):
    try:
        batch = messages.decode_many(body)
    except messages.MessageDecodeError:
        return
    assert batch
    for sms in batch:
        assert isinstance(sms, messages.InboundSms)
        assert sms.schema_version == messages.SCHEMA_VERSION


@FAST
@given(st.dictionaries(st.text(st.characters(exclude_characters="&="), max_size=10), st.text(max_size=20), max_size=8))
def test_vonage_signature_base_takes_any_parameters(params):
    # Every parameter but sig, sorted, as key=value: "&" and "=" in a value cannot forge another.
    pairs = [part.split("=") for part in signature_base(params).split("&")[1:]]
    assert [key for key, _ in pairs] == sorted(key for key in params if key != "sig")
    assert all(len(value) == len(params[key]) for key, value in pairs)


@pytest.mark.parametrize("name", sorted(PROVIDERS))
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(st.binary(max_size=800), st.text(max_size=400).map(str.encode)),
    content_type=st.sampled_from(CONTENT_TYPES),
    query=st.text(max_size=80),
)
def test_any_body_is_parsed_or_refused_with_a_4xx(name, body, content_type, query):
    provider = PROVIDERS[name]
    method = "POST" if "POST" in provider.methods else "GET"
    path = f"/v1/inbound/{name}?{query.encode('utf-8', 'surrogatepass').hex()[:60]}"
    request = make_mocked_request(method, path, headers={"Content-Type": content_type})
    status = 200
    try:
        batch = provider.parse(request, body)
    except ApiError as refused:
        status = refused.status
    else:
        assert all(isinstance(sms.text, str) for sms in batch.messages)
    assert 200 <= status < 500
