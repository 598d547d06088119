"""Alembic migrations of the kiosk's local SQLite store (applied by ``kiosk.services.store``)."""
