"""``python -m matcher``: one matcher worker and its health endpoint, and nothing of the other services."""

from common.runtime import service_main
from matcher.app import serve

service_main(serve)
