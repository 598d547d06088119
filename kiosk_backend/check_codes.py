"""Receipt check codes: what makes a progress URL openable, so numbers cannot be walked through.

The check code of an application number is an HMAC-SHA256 tag (first 10 bytes, base32, 16
lower-case characters) under a key only the platform holds (table ``platform_secrets``, made on
first start). The platform hands it out with the submission's answer (``Receipt.check_code``);
the kiosk prints ``[receipt] progress_url`` filled with number and code and never needs the key.
Rotating the key (deleting the row) makes every printed code stop working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk_backend.models import PlatformSecret

KEY_NAME = "progress_check"
KEY_BYTES = 32
CODE_BYTES = 10


def ensure_key(session: Session) -> bytes:
    """The check-code key, made (32 random bytes) and committed on first use. Commits: call
    with a session of its own (the app factory does).

    Safe when several server processes start at once: a lost insert race re-reads.
    """
    key = session.scalar(select(PlatformSecret.value).where(PlatformSecret.name == KEY_NAME))
    if key is not None:
        return key
    try:
        with session.begin_nested():
            session.add(PlatformSecret(name=KEY_NAME, value=secrets.token_bytes(KEY_BYTES)))
        session.commit()
    except IntegrityError:
        session.rollback()
    return session.scalar(select(PlatformSecret.value).where(PlatformSecret.name == KEY_NAME))


def check_code(key: bytes, number: str) -> str:
    """The 16-character check code of application *number*."""
    digest = hmac.new(key, b"progress:" + number.encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest[:CODE_BYTES]).decode("ascii").lower()


def code_matches(key: bytes, number: str, code: str) -> bool:
    """Constant-time comparison of *code* with the check code of *number*."""
    expected = check_code(key, number).encode("ascii")
    given = code.encode("utf-8", "replace")[:64]
    return hmac.compare_digest(expected, given)


def check_code_for(session: Session, number: str) -> str:
    """The check code of *number* with the key stored in *session*'s database ("" before the
    key exists: :func:`ensure_key` runs when the app is created). Reads only, never commits:
    callers are in the middle of their own transaction."""
    key = session.scalar(select(PlatformSecret.value).where(PlatformSecret.name == KEY_NAME))
    return check_code(key, number) if key else ""
