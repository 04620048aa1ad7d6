"""matcher: AMQP consumers that judge each inbound SMS against the challenges in Redis."""
