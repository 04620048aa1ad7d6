"""``python -m ingest``: the tenant API and the provider webhooks, and nothing of the other services."""

from common.runtime import service_main
from ingest.app import check_configuration, serve

service_main(serve, check_configuration)
