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
