"""Process configuration, read once from ``REVOTP_*`` variables and passed in explicitly."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import msgspec
import phonenumbers

from common.bootstrap import BootstrapError, parse_entry
from common.phones import to_e164

PREFIX = "REVOTP_"
NAMESPACE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

# Settings whose environment value is a comma-separated list.
_LIST_FIELDS = frozenset({"virtual_numbers", "bootstrap_tenants", "previous_secret_keys"})


class SettingsError(ValueError):
    """A ``REVOTP_*`` variable holds a value the process cannot run with."""


class Limit(msgspec.Struct, frozen=True):
    """A rate: ``count`` events per ``window_s`` seconds."""

    count: int
    window_s: int

    @classmethod
    def parse(cls, text: str, variable: str) -> Limit:
        """``"10/60"``: 10 per 60 seconds."""
        count, _, window = text.partition("/")
        try:
            limit = cls(int(count), int(window))
        except ValueError:
            raise SettingsError(f"{variable} must read COUNT/SECONDS, like 10/60") from None
        if limit.count < 1 or limit.window_s < 1:
            raise SettingsError(f"{variable} must have a count and a window of at least 1")
        return limit


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every knob of every service; all optional, loopback defaults (README, Configuration)."""

    # One broker, or the nodes of one cluster, comma-separated (a connection moves on when its node dies).
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Replicas of each quorum queue when first declared (0: the broker's default).
    quorum_group_size: int = 0
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_cluster: bool = False  # REVOTP_REDIS_URL names any seed node of a Redis Cluster
    # Replicas that must hold a write before revotp acts on it (acks an SMS, answers a create).
    redis_wait_replicas: int = 0
    namespace: str = "revotp"
    host: str = "127.0.0.1"
    ingest_port: int = 8080
    matcher_port: int = 8095
    notifier_port: int = 8090
    callbacks_port: int = 8096
    virtual_numbers: tuple[str, ...] = ("+15550100000",)
    default_region: str = "US"
    bootstrap_tenants: tuple[str, ...] = ()
    public_url: str = "http://127.0.0.1:8080"
    # Where end users reach the notifier (the verify page); empty: http://<host>:<notifier_port>.
    page_url: str = ""
    # Root of every keyed hash and token. Unset: generated once and kept in Redis (dev only).
    secret_key: str = ""
    # Secrets replaced by REVOTP_SECRET_KEY that still verify what they keyed (docs/runbook.md).
    previous_secret_keys: tuple[str, ...] = ()
    # Signs the receipts of verifications (common/receipts.py): a PEM private key (Ed25519 or
    # P-256) or the path of a file holding one. Unset: generated once and kept in Redis (dev only).
    receipt_key: str = ""
    insecure_no_signatures: bool = False
    # The notifier serves /demo, which creates challenges as the first bootstrap tenant and posts
    # signed "SMS" to ingest on this host. Local demos only: `revotp demo` turns it on.
    demo: bool = False
    # ingest: challenge records in the layout versions before the coded one read, while such
    # matchers still run during a rolling upgrade (README, Upgrading).
    write_earlier_records: bool = False
    # ingest: how long a publish may wait for the broker's confirm before answering 503.
    publish_timeout_s: float = 5.0
    # ingest: inbound SMS allowed per sender and per virtual number, as COUNT/SECONDS
    sender_rate_limit: str = "10/60"
    number_rate_limit: str = "2000/1"
    # matcher: unacknowledged deliveries per process, and deliveries before dead-lettering.
    prefetch: int = 64
    max_deliveries: int = 5
    shutdown_grace_s: float = 10.0
    # matcher: how long past expires_at the sweeper waits for SMS still in the queue.
    expiry_grace_ms: int = 1000
    # matcher: how long the parts of a long SMS wait for their siblings before being judged as they are.
    parts_timeout_s: float = 60.0
    sweep_interval_s: float = 0.5
    # callbacks: deliveries of one event before it is given up, the first retry's delay (each
    # next one doubles, up to 10 min), one POST's timeout, and whether private addresses may be
    # posted to (development and tests only).
    callback_max_attempts: int = 10
    callback_first_retry_s: float = 1.0
    callback_timeout_s: float = 5.0
    callback_allow_private: bool = False
    # notifier
    ws_ping_s: float = 20.0
    ws_queue_limit: int = 1000
    # notifier: how long one read of an event log waits for news; a closing feed ends within it.
    feed_block_ms: int = 1000
    event_retention_s: int = 86_400
    # None: JSON logs when stderr is not a terminal.
    log_json: bool | None = None
    log_level: str = "info"
    # Every REVOTP_* variable as given, for per-provider options (REVOTP_<PROVIDER>_<OPTION>).
    env: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def page_base_url(self) -> str:
        """The notifier's public base URL, where end users open the verify page."""
        return (self.page_url or f"http://{self.host}:{self.notifier_port}").rstrip("/")

    @property
    def local_host(self) -> str:
        """Where a tool beside the servers reaches them: their host, unless that is no address."""
        return "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104 - compared, not bound

    def local_url(self, port: int) -> str:
        """A revotp server on this machine, as a tool beside it reaches it."""
        return f"http://{self.local_host}:{port}"

    def provider_option(self, provider: str, option: str) -> str:
        """``REVOTP_<PROVIDER>_<OPTION>``, empty when unset (``android-sms-gateway`` → ``ANDROID_SMS_GATEWAY``)."""
        name = f"{PREFIX}{provider.upper().replace('-', '_')}_{option.upper()}"
        return self.env.get(name, "")


_POSITIVE = (
    "callback_max_attempts",
    "callback_first_retry_s",
    "callback_timeout_s",
    "publish_timeout_s",
    "prefetch",
    "shutdown_grace_s",
    "parts_timeout_s",
    "sweep_interval_s",
    "ws_ping_s",
    "ws_queue_limit",
    "feed_block_ms",
)
_LOG_LEVELS = frozenset({"debug", "info", "warning", "error", "critical"})


def _check_ranges(settings: Settings) -> None:
    """Values of the right type that no process can run with, each named by its variable."""
    for field in ("ingest_port", "matcher_port", "notifier_port", "callbacks_port"):
        if not 0 <= getattr(settings, field) <= 65_535:
            raise SettingsError(f"{PREFIX}{field.upper()} must be a TCP port (0 to 65535)")
    for field in _POSITIVE:
        if getattr(settings, field) <= 0:
            raise SettingsError(f"{PREFIX}{field.upper()} must be greater than 0")
    if settings.expiry_grace_ms < 0:
        raise SettingsError("REVOTP_EXPIRY_GRACE_MS must be 0 or more")
    if settings.redis_wait_replicas < 0:
        raise SettingsError("REVOTP_REDIS_WAIT_REPLICAS must be 0 or more")
    if settings.secret_key and len(settings.secret_key.encode()) < 16:
        raise SettingsError("REVOTP_SECRET_KEY must be at least 16 bytes (or unset, for local use only)")
    if settings.previous_secret_keys and not settings.secret_key:
        raise SettingsError("REVOTP_PREVIOUS_SECRET_KEYS needs REVOTP_SECRET_KEY: the secret that replaced them")
    if any(len(key.encode()) < 16 for key in settings.previous_secret_keys):
        raise SettingsError("each of REVOTP_PREVIOUS_SECRET_KEYS must be at least 16 bytes")
    if settings.log_level.lower() not in _LOG_LEVELS:
        raise SettingsError(f"REVOTP_LOG_LEVEL must be one of {', '.join(sorted(_LOG_LEVELS))}")
    if settings.default_region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError("REVOTP_DEFAULT_REGION must be a two-letter region such as US or FR")
    if urlsplit(settings.public_url).scheme not in ("http", "https") or not urlsplit(settings.public_url).netloc:
        raise SettingsError("REVOTP_PUBLIC_URL must be an http(s) URL such as https://hooks.example.com")
    brokers = [url.strip() for url in settings.amqp_url.split(",") if url.strip()]
    if not brokers or any(urlsplit(url).scheme not in ("amqp", "amqps") for url in brokers):
        raise SettingsError("REVOTP_AMQP_URL must be amqp(s):// URLs, comma-separated for the nodes of a cluster")
    if settings.quorum_group_size < 0:
        raise SettingsError("REVOTP_QUORUM_GROUP_SIZE must be 0 (the broker's default) or more")
    page = urlsplit(settings.page_url)
    if settings.page_url and (page.scheme not in ("http", "https") or not page.netloc):
        raise SettingsError("REVOTP_PAGE_URL must be an http(s) URL such as https://verify.example.com")
    if not NAMESPACE_PATTERN.fullmatch(settings.namespace):
        raise SettingsError("REVOTP_NAMESPACE must be 1-64 letters, digits, '-', '_' or '.'")


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default ``os.environ``); a bad value raises SettingsError."""
    environ = os.environ if environ is None else environ
    given = {key: value for key, value in environ.items() if key.startswith(PREFIX)}
    raw: dict[str, object] = {"env": given}
    for field in msgspec.structs.fields(Settings):
        value = given.get(PREFIX + field.name.upper())
        if value is None or field.name == "env" or (value == "" and field.name != "secret_key"):
            continue
        if field.name in _LIST_FIELDS:
            raw[field.name] = [item.strip() for item in value.split(",") if item.strip()]
        else:
            raw[field.name] = value
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"invalid configuration: {exc}") from exc
    _check_ranges(settings)
    if settings.event_retention_s < 86_400:
        raise SettingsError("REVOTP_EVENT_RETENTION_S must keep events at least 24 h (86400)")
    for entry in settings.bootstrap_tenants:
        try:
            parse_entry(entry)
        except BootstrapError as exc:
            raise SettingsError(f"REVOTP_BOOTSTRAP_TENANTS: {exc}") from None
    Limit.parse(settings.sender_rate_limit, "REVOTP_SENDER_RATE_LIMIT")
    Limit.parse(settings.number_rate_limit, "REVOTP_NUMBER_RATE_LIMIT")
    if settings.max_deliveries < 1:
        raise SettingsError("REVOTP_MAX_DELIVERIES must be at least 1")
    if not settings.virtual_numbers:
        raise SettingsError("REVOTP_VIRTUAL_NUMBERS must name at least one number")
    numbers = []
    for raw_number in settings.virtual_numbers:
        number = to_e164(raw_number, settings.default_region)
        if number is None:
            raise SettingsError(f"REVOTP_VIRTUAL_NUMBERS: {raw_number!r} is not a phone number")
        numbers.append(number)
    return msgspec.structs.replace(settings, virtual_numbers=tuple(numbers))
