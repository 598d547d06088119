"""Alembic revision files of the kiosk store, oldest first by revision id."""
