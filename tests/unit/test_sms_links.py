"""sms: links keep every body intact, pick the form each platform reads; verify-page secrets open only where sealed."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from common.keyring import Keyring
from common.sms_links import Platform, platform_of, sms_body, sms_link
from common.verify_page import PageSecret, open_page_secret, seal_page_secret, verify_url

NUMBER = "+15550100000"
TRICKY = ["483920", "483920 Pay 500 € & more", "a#b", "1+1=2", "été à Zürich", "100% ?&body=evil", "line\nbreak"]


def test_each_platform_gets_its_form():
    assert sms_link(NUMBER, "483920", Platform.ANDROID) == "sms:+15550100000?body=483920"
    assert sms_link(NUMBER, "483920", Platform.IOS) == "sms:+15550100000&body=483920"
    assert sms_link(NUMBER, "483920") == "sms:+15550100000?&body=483920"


@given(st.sampled_from(TRICKY) | st.text(min_size=1, max_size=60))
def test_any_body_survives_the_standard_reading(body: str):
    """Read as RFC 5724 says (the query after '?'), the body is exactly what was written."""
    for platform in (Platform.ANDROID, Platform.ANY):
        link = sms_link(NUMBER, body, platform)
        parts = urlsplit(link)
        assert parts.scheme == "sms"
        assert parts.path == NUMBER
        assert not parts.fragment
        assert parse_qs(parts.query, keep_blank_values=True)["body"] == [body]
    ios = sms_link(NUMBER, body, Platform.IOS)
    assert unquote(ios.split("&body=", 1)[1]) == body
    assert ios.count("&") == 1


def test_user_agents_name_their_platform():
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    pixel = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
    desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
    assert [platform_of(ua) for ua in (iphone, pixel, desktop, "")] == [
        Platform.IOS,
        Platform.ANDROID,
        Platform.ANY,
        Platform.ANY,
    ]


def test_the_code_comes_first_in_the_body():
    assert sms_body("483920") == "483920"
    assert sms_body("483920", "Pay 5 EUR") == "483920 Pay 5 EUR"


def test_a_page_secret_opens_only_for_its_challenge_and_key():
    keyring = Keyring(b"k" * 32)
    sealed = seal_page_secret(keyring, "acme", "ch_a", PageSecret("483920", "483920 Pay"))
    assert open_page_secret(keyring, "acme", "ch_a", sealed) == PageSecret("483920", "483920 Pay")
    assert "483920" not in sealed
    for tenant, challenge in (("acme", "ch_b"), ("globex", "ch_a")):
        assert open_page_secret(keyring, tenant, challenge, sealed) is None
    assert open_page_secret(Keyring(b"x" * 32), "acme", "ch_a", sealed) is None
    # (Not the last character: base64's last one may carry bits the decoder drops.)
    flipped = sealed[:10] + ("A" if sealed[10] != "A" else "B") + sealed[11:]
    for damaged in ("", "!!", sealed[:-4], flipped):
        assert open_page_secret(keyring, "acme", "ch_a", damaged) is None
    url = verify_url("https://v.example", "ch_a", watch_token="acme.m+a/c", sealed=sealed)
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/v1/challenges/ch_a/page"
    assert (query["token"], query["code"]) == (["acme.m+a/c"], [sealed])
