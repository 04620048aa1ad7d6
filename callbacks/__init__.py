"""The callbacks service: every event of a tenant posted, signed, to the tenant's URL.

``relay`` turns the tenants' event logs (the outbox the atomic step writes) into one durable
delivery per event, in one process at a time; ``deliverer`` posts them, retrying through
RabbitMQ with growing delays, so a restart loses no pending callback.
"""
