"""notifier: pushes every verdict from the tenants' event logs to websockets."""
