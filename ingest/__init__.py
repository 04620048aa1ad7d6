"""ingest: the tenant API and the SMS providers' webhooks; accepted SMS go to RabbitMQ."""
