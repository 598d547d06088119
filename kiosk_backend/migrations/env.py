"""Alembic environment: runs on the engine handed in by kiosk_backend.db.migrate."""

from __future__ import annotations

from alembic import context

from kiosk_backend.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch "move and copy" drops and recreates a table. With foreign keys on, that
            # DROP refuses a referenced table (persons) or cascades (applications → its events
            # vanish). The pragma is ignored inside a transaction, so it goes first; the check
            # below proves the copies left every reference whole.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    _refuse_broken_references(connection)
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _refuse_broken_references(connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise RuntimeError(f"migration left rows pointing at missing rows in {tables}")


if context.is_offline_mode():  # pragma: no cover
    raise RuntimeError("offline migrations are not supported; run against a database")
run_migrations_online()
