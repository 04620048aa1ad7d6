"""``python -m callbacks``: the callbacks service and its health endpoint, and nothing of the other services."""

from callbacks.app import serve
from common.runtime import service_main

service_main(serve)
