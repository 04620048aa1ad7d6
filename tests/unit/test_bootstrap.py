"""``REVOTP_BOOTSTRAP_TENANTS`` entries: ``id:api_key[:callback_secret]``."""

import pytest

from common.bootstrap import BootstrapError, BootstrapTenant, parse_entry
from common.settings import SettingsError, from_env

SECRET = "whsec_" + "s" * 32


def test_an_entry_without_a_secret_leaves_it_to_revotp():
    assert parse_entry("acme:key-acme") == BootstrapTenant("acme", "key-acme", None)


def test_the_third_field_is_the_callback_secret_not_part_of_the_key():
    assert parse_entry(f"acme:key-acme:{SECRET}") == BootstrapTenant("acme", "key-acme", SECRET)


@pytest.mark.parametrize(
    "entry",
    ["acme", "acme:", ":key", "Acme:key", "acme:key:", "acme:key:short", f"acme::{SECRET}", f"acme:key:{SECRET}:more"],
)
def test_a_malformed_entry_is_refused_with_its_format(entry: str):
    with pytest.raises(BootstrapError, match="id:api_key"):
        parse_entry(entry)


def test_settings_refuse_a_malformed_entry_and_read_a_good_one():
    settings = from_env({"REVOTP_BOOTSTRAP_TENANTS": f"a:k1:{SECRET}, b:k2"})
    assert [parse_entry(entry).api_key for entry in settings.bootstrap_tenants] == ["k1", "k2"]
    with pytest.raises(SettingsError, match="REVOTP_BOOTSTRAP_TENANTS"):
        from_env({"REVOTP_BOOTSTRAP_TENANTS": "a:k1:tooshort"})
