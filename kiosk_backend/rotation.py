"""Rotating the server key ring (``kiosk backend rotate-key``).

The new ring (a fresh key first, then the old ones) is written to the key file before anything
in the database changes, so every sealed value opens at every moment; then kiosk secrets and
stored answers are re-sealed under the new key in one transaction. Keyed request hashes cannot
be re-keyed (the request is not kept); the old keys stay in the ring until the idempotency
retention has passed and then the operator deletes their lines.

Servers read the ring at start: run this while they are stopped, or restart every worker right
after (a worker still on the old ring refuses kiosks whose secrets were re-sealed: 401, which
the kiosks retry).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from kiosk_backend.answers import answer_context
from kiosk_backend.db import make_engine, make_session_factory, migrate
from kiosk_backend.models import IdempotencyRecord, Kiosk
from kiosk_backend.provision import kiosk_secret, seal_kiosk_secret
from kiosk_backend.server_keys import (
    STORED_ANSWER,
    ServerKeyError,
    key_file_for,
    load_server_keys,
    replace_key_file,
)


@dataclass(frozen=True)
class Resealed:
    secrets: int
    answers: int


def rotate_server_key(
    db_url: str, key_file: str | os.PathLike[str] | None = None
) -> tuple[Path, Resealed]:
    """Put a new key first in the ring of the database at *db_url* and re-seal under it.

    Returns the key file and how many values were re-sealed. Raises ServerKeyError (no key
    file for this database, malformed file), SealedDataError (a value sealed under a key that
    is no longer in the ring), OSError.
    """
    path = key_file_for(db_url, key_file)
    if path is None:
        raise ServerKeyError("an in-memory database has no key file to rotate")
    old = load_server_keys(db_url, path)
    engine = make_engine(db_url)
    try:
        migrate(engine, old)
        new = old.rotated()
        replace_key_file(path, new)
        with make_session_factory(engine)() as session:
            secrets = 0
            for kiosk in session.scalars(select(Kiosk)):
                kiosk.secret_sealed = seal_kiosk_secret(kiosk.id, kiosk_secret(kiosk, new), new)
                secrets += 1
            answers = 0
            stored = select(IdempotencyRecord).where(IdempotencyRecord.response_body.is_not(None))
            for record in session.scalars(stored):
                context = answer_context(record.kiosk_id, record.key)
                plain = new.open(STORED_ANSWER, record.response_body, context)
                record.response_body = new.seal(STORED_ANSWER, plain, context)
                answers += 1
            session.commit()
    finally:
        engine.dispose()
    return path, Resealed(secrets, answers)
