"""Prometheus metrics of the matcher."""

from prometheus_client import Counter, Histogram

SMS_PROCESSED = Counter("revotp_matcher_sms_total", "Inbound SMS by outcome", ["outcome"])
VERDICTS = Counter("revotp_matcher_verdicts_total", "Challenge changes caused by SMS", ["status"])
EXPIRED = Counter("revotp_matcher_expired_total", "Challenges expired by the sweeper")
PROCESS_SECONDS = Histogram("revotp_matcher_process_seconds", "Time to judge one SMS")
FUNNEL = Counter(
    "revotp_matcher_funnel_total",
    "SMS received and challenges verified, per tenant (common/funnel.py)",
    ["tenant", "step"],
)
VERDICT_LATENCY = Histogram(
    "revotp_matcher_verdict_latency_seconds",
    "From ingest accepting an SMS to its verdict committed (queue wait included)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
EXPIRY_LAG = Histogram(
    "revotp_matcher_expiry_lag_seconds",
    "From the end of an expiry slot to its sweep (the grace period included)",
    buckets=(0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0),
)
FOREIGN_SENDERS = Counter(
    "revotp_matcher_foreign_senders_total",
    "SMS left out at a tenant whose allowed_sender_countries refuse the sender's country",
    ["tenant"],
)
STALE = Counter(
    "revotp_matcher_stale_total",
    "Challenges an SMS could not answer: its provider received it before they existed",
    ["tenant"],
)
SENDER_MISMATCHES = Counter(
    "revotp_matcher_sender_mismatches_total",
    "Pending challenges whose code came from another phone (challenge.sender_mismatch)",
    ["tenant"],
)
