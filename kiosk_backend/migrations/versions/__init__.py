"""Migration scripts, applied in order by kiosk_backend.db.migrate."""
