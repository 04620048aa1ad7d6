"""Twilio's request signature, checked against the vectors of twilio-python's own unit tests."""

import pytest

from ingest.providers.twilio import compute_signature, is_valid, url_variants

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]


def test_published_vector():
    assert compute_signature(TOKEN, URL, PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_published_vector_with_other_caller():
    params = [(k, "+12349013030" if k in ("Caller", "From") else v) for k, v in PARAMS]
    assert compute_signature(TOKEN, URL, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_published_vector_with_explicit_port():
    url = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert compute_signature(TOKEN, url, PARAMS) == "kvajT1Ptam85bY51eRf/AJRuM3w="


@pytest.mark.parametrize(
    "configured_url",
    ["https://mycompany.com/myapp.php?foo=1&bar=2", "https://mycompany.com:443/myapp.php?foo=1&bar=2"],
)
def test_signature_made_with_or_without_the_default_port_is_accepted(configured_url):
    assert is_valid(TOKEN, configured_url, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert is_valid(TOKEN, configured_url, PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w=")


def test_tampered_parameter_is_refused():
    tampered = [(k, "9999" if k == "Digits" else v) for k, v in PARAMS]
    assert not is_valid(TOKEN, URL, tampered, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_other_token_is_refused():
    assert not is_valid("54321", URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_url_variants():
    assert url_variants("https://a.example/x?y=1") == [
        "https://a.example/x?y=1",
        "https://a.example:443/x?y=1",
    ]
    assert url_variants("http://a.example:8080/x") == ["http://a.example:8080/x", "http://a.example/x"]


def test_published_json_body_vector():
    # Twilio signs JSON-bodied webhooks over the URL carrying bodySHA256, with no parameters.
    body_hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    import hashlib

    assert hashlib.sha256(b'{"property": "value", "boolean": true}').hexdigest() == body_hash
    assert compute_signature(TOKEN, f"{URL}&bodySHA256={body_hash}", []) == "a9nBmqA0ju/hNViExpshrM61xv4="
