"""Prometheus metrics of ingest."""

from prometheus_client import Counter, Histogram

CHALLENGES_CREATED = Counter("revotp_ingest_challenges_created_total", "Challenges created")
SMS_ACCEPTED = Counter("revotp_ingest_sms_accepted_total", "SMS confirmed by the broker", ["provider"])
SMS_DROPPED = Counter(
    "revotp_ingest_sms_dropped_total", "SMS answered as accepted but never queued", ["provider", "reason"]
)
WEBHOOKS_REFUSED = Counter("revotp_ingest_webhooks_refused_total", "Webhook requests refused", ["provider", "status"])
PUBLISH_SECONDS = Histogram("revotp_ingest_publish_seconds", "Time from publish to broker confirm")
