"""Prometheus metrics of the callbacks service."""

from prometheus_client import Counter

RELAYED = Counter("revotp_callbacks_relayed_total", "Events turned into callback deliveries")
DELIVERED = Counter("revotp_callbacks_delivered_total", "Callbacks the target answered 2xx")
FAILED_ATTEMPTS = Counter("revotp_callbacks_failed_attempts_total", "Callback attempts that failed", ["reason"])
GIVEN_UP = Counter("revotp_callbacks_given_up_total", "Callbacks abandoned after the last attempt or refused")
