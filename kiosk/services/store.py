"""The kiosk's local SQLite store: one file in the data directory, durable by configuration.

:func:`open_store` creates the file (mode 0600) if needed, sets WAL journaling and
``synchronous=FULL`` on every connection (a committed transaction survives a power cut), and
applies the Alembic migrations under ``kiosk/services/migrations`` before returning. The table
definitions below mirror the migrations; a test checks they agree.

The engine is safe to share between threads (each thread checks out its own connection);
SQLite serialises writers, and ``busy_timeout`` makes a writer wait instead of failing.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Engine

from kiosk.services.durable_files import fsync_dir
from kiosk.services.quarantine import check_or_quarantine, salvage_rows

DB_FILE_NAME = "kiosk.sqlite3"
KEY_FILE_NAME = "store.key"
NONCE_BYTES = 12
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 30_000

metadata = sa.MetaData()

outbox_entries = sa.Table(
    "outbox_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("local_ref", sa.String(32), nullable=False, unique=True),
    sa.Column("idempotency_key", sa.String(36), nullable=False, unique=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("path", sa.String(200), nullable=False),
    # nonce (12 bytes) || AES-GCM ciphertext+tag of the JSON payload; AAD = idempotency_key
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("last_attempt_at", sa.Float, nullable=True),
    sa.Column("delivered_at", sa.Float, nullable=True),
    sa.Column("http_status", sa.Integer, nullable=True),
    sa.Column("error_code", sa.String(64), nullable=False, server_default=""),
    sa.Column("reference_no", sa.String(64), nullable=True),
    sa.Column("due_date", sa.String(32), nullable=True),
    # the server's answer (or error body), encrypted like the payload
    sa.Column("response", sa.LargeBinary, nullable=True),
    sa.Index("ix_outbox_status_due", "status", "next_attempt_at"),
)

cache_entries = sa.Table(
    "cache_entries",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("fetched_at", sa.Float, nullable=False),
)


@dataclass(frozen=True)
class KioskStore:
    """An open store: the engine plus where it lives. Close with :meth:`close`."""

    engine: Engine
    path: Path

    def close(self) -> None:
        self.engine.dispose()


def open_store(
    data_dir: Path, file_name: str = DB_FILE_NAME, *, quarantine: bool = True
) -> KioskStore:
    """Open (creating and migrating if needed) the store in *data_dir*.

    With *quarantine* (the kiosk itself), a truncated or corrupt file is first moved aside and
    a fresh store started with every outbox row that still reads
    (:mod:`kiosk.services.quarantine`). Without it (a second process such as ``kiosk outbox
    status``, which must not move a file the running kiosk holds open), a damaged file raises
    sqlalchemy.exc.DatabaseError.
    """
    path = Path(data_dir) / file_name
    damaged = check_or_quarantine(path) if quarantine else None
    create_private_file(path)
    engine = create_sqlite_engine(path)
    migrate(engine)
    if damaged is not None:
        salvage_rows(
            path.with_name(damaged.moved_to), path, "outbox_entries", damaged, _sound_outbox_row
        )
    return KioskStore(engine=engine, path=path)


_OUTBOX_STATES = frozenset({"pending", "delivered", "failed"})
_KEY_SHAPE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _sound_outbox_row(row: dict) -> bool:
    """A salvaged outbox row worth keeping: a known state and an intact Idempotency-Key (the
    payload's own integrity is checked by AES-GCM when the worker decrypts it)."""
    key = row.get("idempotency_key")
    return (
        row.get("status") in _OUTBOX_STATES
        and isinstance(key, str)
        and bool(_KEY_SHAPE.match(key))
        and isinstance(row.get("payload"), bytes)
    )


def create_private_file(path: Path) -> None:
    """Create *path* empty with mode 0600 if it does not exist (SQLite would use the umask)."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def create_sqlite_engine(path: Path) -> Engine:
    """An engine on *path* whose every connection uses WAL, synchronous=FULL and busy_timeout."""
    engine = sa.create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin: the module
        # would otherwise run DDL outside any transaction, and a crash in the middle of a
        # migration could leave a half-made schema.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (a no-op when it is current)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class StoreKeyError(RuntimeError):
    """The at-rest key file is unreadable, the wrong size or readable by group/others."""


class PayloadDecryptError(RuntimeError):
    """A stored blob does not decrypt under this key and its associated data (tampered/lost key)."""


class PayloadCipher:
    """AES-256-GCM for personal data at rest; a fresh 96-bit random nonce for every blob.

    A blob is ``nonce || ciphertext+tag``. *aad* binds a blob to its row (the outbox uses the
    row's idempotency key), so a blob copied to another row does not decrypt. Thread-safe.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise StoreKeyError("the at-rest key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_key_file(cls, path: Path) -> PayloadCipher:
        return cls(load_or_create_key(path))

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        """Raises :class:`PayloadDecryptError` if *blob* was altered or made with another key."""
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except (InvalidTag, ValueError):
            raise PayloadDecryptError("stored payload does not decrypt") from None


def load_or_create_key(path: Path) -> bytes:
    """Return the 32-byte key in *path*, creating it (mode 0600, fsynced) on first use.

    The key lives in its own file next to, not inside, the database, so a copied database file
    alone reveals nothing. Raises :class:`StoreKeyError` for a bad or too-open key file.
    """
    path = Path(path)
    if not path.exists():
        # Write the key to a private temporary file and hard-link it into place: a crash leaves
        # either no key file or a complete one, and of two racing processes exactly one wins.
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(AESGCM.generate_key(bit_length=256))
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):  # another process won the race
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        fsync_dir(path.parent)
    try:
        mode = path.stat().st_mode
        key = path.read_bytes()
    except OSError as exc:
        raise StoreKeyError(f"{path}: cannot read key file ({type(exc).__name__})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise StoreKeyError(f"{path}: key file must be mode 0600, is {mode & 0o777:04o}")
    if len(key) != 32:
        raise StoreKeyError(f"{path}: key file must hold 32 bytes, holds {len(key)}")
    return key
