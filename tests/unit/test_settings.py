"""Configuration from REVOTP_* variables."""

from pathlib import Path

import pytest

from common.amqp import broker_urls, quorum_arguments
from common.phones import read_delivered_number, to_e164
from common.settings import Settings, SettingsError, from_env


def test_defaults_are_loopback():
    settings = from_env({})
    assert settings.amqp_url == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.ingest_port, settings.matcher_port, settings.notifier_port) == (8080, 8095, 8090)
    assert settings.virtual_numbers == ("+15550100000",)


def test_values_are_read_and_lists_split():
    settings = from_env(
        {
            "REVOTP_INGEST_PORT": "9000",
            "REVOTP_VIRTUAL_NUMBERS": "+15550100000, 0612345678",
            "REVOTP_DEFAULT_REGION": "FR",
            "REVOTP_BOOTSTRAP_TENANTS": "a:k1,b:k2",
            "REVOTP_INSECURE_NO_SIGNATURES": "1",
            "REVOTP_WRITE_EARLIER_RECORDS": "1",
            "REVOTP_TWILIO_SECRET": "tok",
            "REVOTP_ANDROID_SMS_GATEWAY_SECRET": "sig",
        }
    )
    assert settings.ingest_port == 9000
    assert settings.virtual_numbers == ("+15550100000", "+33612345678")
    assert settings.bootstrap_tenants == ("a:k1", "b:k2")
    assert settings.insecure_no_signatures is True
    assert settings.write_earlier_records is True
    assert settings.provider_option("twilio", "secret") == "tok"
    assert settings.provider_option("android-sms-gateway", "secret") == "sig"
    assert settings.provider_option("plivo", "secret") == ""


@pytest.mark.parametrize(
    "env",
    [
        {"REVOTP_INGEST_PORT": "eighty"},
        {"REVOTP_VIRTUAL_NUMBERS": "not-a-number"},
        {"REVOTP_EVENT_RETENTION_S": "60"},
        {"REVOTP_BOOTSTRAP_TENANTS": "acme"},
        {"REVOTP_BOOTSTRAP_TENANTS": "Acme Corp:key"},
        {"REVOTP_MAX_DELIVERIES": "0"},
        {"REVOTP_SENDER_RATE_LIMIT": "10"},
        {"REVOTP_NUMBER_RATE_LIMIT": "0/1"},
        {"REVOTP_NUMBER_RATE_LIMIT": "ten/1"},
        {"REVOTP_INGEST_PORT": "70000"},
        {"REVOTP_PREFETCH": "0"},
        {"REVOTP_SWEEP_INTERVAL_S": "-1"},
        {"REVOTP_SECRET_KEY": "short"},
        {"REVOTP_LOG_LEVEL": "loud"},
        {"REVOTP_DEFAULT_REGION": "XX"},
        {"REVOTP_PUBLIC_URL": "hooks.example.com"},
        {"REVOTP_PAGE_URL": "ftp://verify.example.com"},
        {"REVOTP_AMQP_URL": " , "},
        {"REVOTP_AMQP_URL": "amqp://a:5672/,http://b:5672/"},
        {"REVOTP_QUORUM_GROUP_SIZE": "-1"},
        {"REVOTP_NAMESPACE": "a b"},
    ],
)
def test_bad_values_are_refused_with_a_clear_error(env):
    with pytest.raises(SettingsError):
        from_env(env)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("33612345678", "US", "+33612345678"),  # international without '+'
        ("0612345678", "FR", "+33612345678"),  # national
        ("2025550143", "US", "+12025550143"),  # national wins when both readings are possible
        ("ACME", "US", None),
    ],
)
def test_delivered_numbers_are_read_national_first_then_international(raw, region, expected):
    assert read_delivered_number(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+33612345678", None, "+33612345678"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("0033612345678", "FR", "+33612345678"),
        ("33612345678", "FR", "+33612345678"),  # providers that drop the +, read with their country
        ("447911123456", "GB", "+447911123456"),
        ("ACME", "US", None),
        ("", "US", None),
    ],
)
def test_phone_numbers_are_written_e164(raw, region, expected):
    assert to_e164(raw, region, strict=True) == expected


def test_a_cluster_is_several_broker_urls_and_a_quorum_group_size():
    settings = from_env({"REVOTP_AMQP_URL": "amqp://a:5672/, amqps://b:5671/", "REVOTP_QUORUM_GROUP_SIZE": "3"})
    assert broker_urls(settings.amqp_url) == ["amqp://a:5672/", "amqps://b:5671/"]
    assert quorum_arguments(settings.quorum_group_size) == {"x-queue-type": "quorum", "x-quorum-initial-group-size": 3}
    assert quorum_arguments(0) == {"x-queue-type": "quorum"}


def test_every_setting_is_documented_in_the_readme():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    undocumented = [
        name for name in Settings.__struct_fields__ if name != "env" and f"`REVOTP_{name.upper()}`" not in readme
    ]
    assert undocumented == [], "add each to README, Configuration"
