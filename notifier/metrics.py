"""Prometheus metrics of the notifier."""

from prometheus_client import Counter, Gauge

CONNECTIONS = Gauge("revotp_notifier_connections", "Open websockets", ["stream"])
EVENTS_SENT = Counter("revotp_notifier_events_sent_total", "Event frames sent", ["stream"])
SEND_QUEUE = Gauge("revotp_notifier_send_queue_events", "Events waiting to be sent, all sockets together")
SEND_QUEUE_LONGEST = Gauge("revotp_notifier_send_queue_longest_events", "Events waiting on the socket furthest behind")
SLOW_CLIENTS = Counter("revotp_notifier_slow_clients_total", "Sockets closed with 1013 for falling behind")
FUNNEL = Counter(
    "revotp_notifier_funnel_total",
    "Verify pages viewed, QR codes shown, SMS links tapped, per tenant",
    ["tenant", "step"],
)
