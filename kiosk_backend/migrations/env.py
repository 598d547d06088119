"""Alembic environment: runs on the engine handed in by kiosk_backend.db.migrate."""

from __future__ import annotations

from alembic import context

from kiosk_backend.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():  # pragma: no cover
    raise RuntimeError("offline migrations are not supported; run against a database")
run_migrations_online()
