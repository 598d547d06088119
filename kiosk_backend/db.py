"""Engine, sessions and schema migration for the reference server.

SQLite gets WAL, a busy timeout, foreign keys and secure_delete on every connection; PostgreSQL
is used as is.
The SQLite file is created 0600 before SQLite first opens it, so its -wal and -shm files (which
SQLite creates with the database file's mode) are 0600 too; a file an older version left wider
is narrowed once, with a warning. :func:`migrate` applies the Alembic migrations
(``kiosk_backend/migrations``) up to head.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def make_engine(db_url: str, *, pool_size: int = 0, pool_timeout: float | None = None) -> Engine:
    """Create an engine for *db_url*; SQLite connections may be used from any thread.

    An SQLite database file is created private (0600) first; see the module docstring.
    *pool_size* > 0 caps the connections held at that many (0: SQLAlchemy's pool, 5 + 10 for
    SQLite, 10 + 20 here for PostgreSQL); a request waits at most *pool_timeout* seconds for
    one (None: SQLAlchemy's 30 s; then sqlalchemy.exc.TimeoutError, answered 503 by
    kiosk_backend.errors).
    """
    pool: dict[str, Any] = {} if pool_timeout is None else {"pool_timeout": pool_timeout}
    if pool_size > 0:
        pool.update(pool_size=pool_size, max_overflow=0)
    if db_url.startswith("sqlite"):
        database = make_url(db_url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            ensure_private_sqlite_file(Path(database))
        engine = create_engine(
            db_url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_pre_ping=True,
            hide_parameters=True,  # errors and logs must never carry personal data
            **pool,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Freed pages are zeroed: a purged answer or a secret a migration sealed does not
            # linger in the file's free list in clear.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return create_engine(
        db_url,
        pool_pre_ping=True,
        hide_parameters=True,
        **{"pool_size": 10, "max_overflow": 20, **pool},
    )


def ensure_private_sqlite_file(path: Path) -> None:
    """Create *path* empty with mode 0600 if it is missing (an empty file is an empty SQLite
    database); narrow an existing database and its -wal/-shm/-journal files to 0600."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_COMPANIONS)):
        with contextlib.suppress(FileNotFoundError):
            if candidate.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                os.chmod(candidate, 0o600)
                log.warning("narrowed a database file readable by others to 0600")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine, keys=None):
    """An Alembic Config that runs on *engine*'s connection (no alembic.ini needed).

    *keys* (:class:`kiosk_backend.server_keys.ServerKeys`) is what migrations that seal data
    use; without it they load the database's default key ring when they need one.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    config.attributes["server_keys"] = keys
    return config


def migrate(engine: Engine, keys=None) -> None:
    """Bring the schema to the newest migration (idempotent; safe on a fresh database).

    *keys*: the server key ring, for migrations that seal existing rows (see
    :func:`alembic_config`).
    """
    from alembic import command

    command.upgrade(alembic_config(engine, keys), "head")
    if engine.dialect.name == "sqlite":
        # Old page images (e.g. a secret before 0007 sealed it) wait in the WAL until a
        # checkpoint; write them home and empty the WAL now. Busy readers only postpone it.
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def reset_sequences(session: Session, tables: list[str]) -> None:
    """On PostgreSQL, move id sequences past explicitly inserted ids (no-op elsewhere)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        )
