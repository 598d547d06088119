"""Provision kiosks: the county administrator's step of giving a kiosk its id and secret."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from kiosk_backend.db import make_engine, make_session_factory, migrate
from kiosk_backend.models import PRINCIPAL_KINDS, PRINCIPAL_KIOSK, Kiosk

SECRET_BYTES = 32


class ProvisionError(ValueError):
    """The kiosk id or secret is not acceptable (message says which)."""


def new_secret_hex() -> str:
    """A fresh random 32-byte secret, hex-encoded."""
    return secrets.token_hex(SECRET_BYTES)


def write_secret_file(path: Path, secret_hex: str) -> None:
    """Write *secret_hex* to *path* with mode 0600 (created that way, never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret_hex + "\n")
    os.chmod(path, 0o600)


def read_secret_file(path: Path) -> str:
    """Read a hex secret written by :func:`write_secret_file` (ProvisionError if malformed)."""
    text = path.read_text(encoding="ascii").strip()
    _check_secret(text)
    return text


def _check_secret(secret_hex: str) -> None:
    try:
        raw = bytes.fromhex(secret_hex)
    except ValueError:
        raise ProvisionError("secret is not hex") from None
    if len(raw) < 16:
        raise ProvisionError("secret must be at least 16 bytes")


def upsert_kiosk(
    session, kiosk_id: str, secret_hex: str, service_point: str = "", kind: str = PRINCIPAL_KIOSK
) -> Kiosk:
    """Create or re-key a signing principal in an open session (caller commits).

    *kind* is ``kiosk`` (a service point) or ``desk`` (a responder desk). An existing id keeps
    its kind: re-keying a desk as a kiosk (or the reverse) raises ProvisionError, so one
    credential can never serve both sides.
    """
    if not kiosk_id or len(kiosk_id) > 64 or not kiosk_id.isascii() or not kiosk_id.isprintable():
        raise ProvisionError("kiosk id must be 1-64 printable ASCII characters")
    if kind not in PRINCIPAL_KINDS:
        raise ProvisionError(f"kind must be one of {', '.join(PRINCIPAL_KINDS)}")
    _check_secret(secret_hex)
    kiosk = session.get(Kiosk, kiosk_id)
    if kiosk is not None and kiosk.kind != kind:
        raise ProvisionError(f"{kiosk_id} is already provisioned as a {kiosk.kind}, not a {kind}")
    if kiosk is None:
        kiosk = Kiosk(
            id=kiosk_id, kind=kind, secret_hex=secret_hex.lower(), service_point=service_point
        )
        session.add(kiosk)
    else:
        kiosk.secret_hex = secret_hex.lower()
        if service_point:
            kiosk.service_point = service_point
    return kiosk


def add_kiosk(db_url: str, kiosk_id: str, secret_hex: str, service_point: str = "") -> None:
    """Register (or re-key) kiosk *kiosk_id* with *secret_hex* in the database at *db_url*.

    Applies migrations first, so it works on a fresh database. Raises ProvisionError.
    """
    engine = make_engine(db_url)
    try:
        migrate(engine)
        with make_session_factory(engine)() as session:
            upsert_kiosk(session, kiosk_id, secret_hex, service_point)
            session.commit()
    finally:
        engine.dispose()
