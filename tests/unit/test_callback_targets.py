"""Callback targets: anything a tenant may send is refused with a reason or allowed, never a crash."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.callback_targets import RefusedTarget, check_address, check_target, check_url

ODD = [
    "http://" + "a" * 64 + ".example/",  # a label IDNA refuses
    "http://a..b/",
    "http://.../",
    "http://[::1/",
    "http://[zz]/",
    "http://[::1%eth0]/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://a:99999/",
    "http://\x00/",
]


@pytest.mark.parametrize("url", ODD)
async def test_odd_urls_are_refused_with_a_reason(url: str):
    with pytest.raises(RefusedTarget):
        await check_target(url, allow_private=False)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80).map(lambda host: f"http://{host}/"))
def test_no_host_crashes_the_check(url: str):
    with contextlib.suppress(RefusedTarget):
        asyncio.run(check_target(url, allow_private=False))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
        "100.64.0.1",
    ],
)
def test_addresses_inside_the_network_are_refused_unless_allowed(address: str):
    with pytest.raises(RefusedTarget):
        check_address(address, allow_private=False)
    check_address(address, allow_private=True)


def test_public_addresses_and_names_pass_the_form_check():
    for url in ("https://8.8.8.8/hook", "https://hooks.example.com/revotp?x=1", "http://[2001:4860:4860::8888]/"):
        assert check_url(url, allow_private=False) == url
