"""Provision kiosks: the county administrator's step of giving a kiosk its id, secret and region.

Secrets are stored sealed with the server key (:mod:`kiosk_backend.server_keys`); the region is
set here and nowhere else (a kiosk's announce cannot move it).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from kiosk_backend.db import make_engine, make_session_factory, migrate
from kiosk_backend.models import PRINCIPAL_KINDS, PRINCIPAL_KIOSK, Kiosk
from kiosk_backend.server_keys import KIOSK_SECRET, ServerKeys, load_server_keys

SECRET_BYTES = 32
REGION_RE = re.compile(r"[0-9]{6}")


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


def kiosk_secret(kiosk: Kiosk, keys: ServerKeys) -> bytes:
    """The kiosk's HMAC secret, opened from its sealed column (SealedDataError if it does not
    open: another server key, or a row copied from another kiosk)."""
    return keys.open(KIOSK_SECRET, kiosk.secret_sealed, kiosk.id.encode())


def seal_kiosk_secret(kiosk_id: str, secret: bytes, keys: ServerKeys) -> bytes:
    """What goes into ``kiosks.secret_sealed`` for *secret* (bound to *kiosk_id*)."""
    return keys.seal(KIOSK_SECRET, secret, kiosk_id.encode())


def check_region_code(region_code: str) -> None:
    """A county-level region code is 6 ASCII digits (ProvisionError otherwise)."""
    if not REGION_RE.fullmatch(region_code):
        raise ProvisionError("region must be a 6-digit administrative division code, e.g. 140431")


def upsert_kiosk(
    session,
    kiosk_id: str,
    secret_hex: str,
    service_point: str = "",
    kind: str = PRINCIPAL_KIOSK,
    *,
    keys: ServerKeys,
    region_code: str | None = None,
) -> Kiosk:
    """Create or re-key a signing principal in an open session (caller commits).

    *kind* is ``kiosk`` (a service point) or ``desk`` (a responder desk). An existing id keeps
    its kind: re-keying a desk as a kiosk (or the reverse) raises ProvisionError, so one
    credential can never serve both sides. The secret is stored sealed with *keys*.
    *region_code* (6 digits) is the county's say on where a kiosk stands; None keeps the
    region an existing kiosk has. Only provisioning sets it — a kiosk's own announce cannot.
    """
    if not kiosk_id or len(kiosk_id) > 64 or not kiosk_id.isascii() or not kiosk_id.isprintable():
        raise ProvisionError("kiosk id must be 1-64 printable ASCII characters")
    if kind not in PRINCIPAL_KINDS:
        raise ProvisionError(f"kind must be one of {', '.join(PRINCIPAL_KINDS)}")
    _check_secret(secret_hex)
    if region_code is not None:
        check_region_code(region_code)
    kiosk = session.get(Kiosk, kiosk_id)
    if kiosk is not None and kiosk.kind != kind:
        raise ProvisionError(f"{kiosk_id} is already provisioned as a {kiosk.kind}, not a {kind}")
    sealed = seal_kiosk_secret(kiosk_id, bytes.fromhex(secret_hex), keys)
    if kiosk is None:
        kiosk = Kiosk(
            id=kiosk_id,
            kind=kind,
            secret_sealed=sealed,
            service_point=service_point,
            region_code=region_code or "",
        )
        session.add(kiosk)
    else:
        kiosk.secret_sealed = sealed
        if service_point:
            kiosk.service_point = service_point
        if region_code is not None:
            kiosk.region_code = region_code
    return kiosk


def add_kiosk(
    db_url: str,
    kiosk_id: str,
    secret_hex: str,
    service_point: str = "",
    *,
    region_code: str | None = None,
    key_file: str | os.PathLike[str] | None = None,
) -> None:
    """Register (or re-key) kiosk *kiosk_id* with *secret_hex* in the database at *db_url*.

    *region_code*: see :func:`upsert_kiosk` (a new kiosk needs one). *key_file*: the server key
    ring (default: :func:`kiosk_backend.server_keys.load_server_keys`'s choice). Applies
    migrations first, so it works on a fresh database. Raises ProvisionError, ServerKeyError.
    """
    keys = load_server_keys(db_url, key_file)
    engine = make_engine(db_url)
    try:
        migrate(engine, keys)
        with make_session_factory(engine)() as session:
            if region_code is None and session.get(Kiosk, kiosk_id) is None:
                raise ProvisionError(
                    "a new kiosk needs its region: --region <6-digit code, e.g. 140431>"
                )
            upsert_kiosk(
                session, kiosk_id, secret_hex, service_point, keys=keys, region_code=region_code
            )
            session.commit()
    finally:
        engine.dispose()
