"""``python -m notifier``: the websocket event streams, and nothing of the other services."""

from common.runtime import service_main
from notifier.app import serve

service_main(serve)
