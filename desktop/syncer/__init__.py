"""The client side of the sync protocol: HTTP client, enrollment, push/pull engine, scheduling."""
