"""Services between screens and devices/domain: backend client, store, outbox, session, hub."""
