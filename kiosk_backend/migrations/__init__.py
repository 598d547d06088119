"""Alembic migrations of the reference server (a package so that wheels ship them)."""
