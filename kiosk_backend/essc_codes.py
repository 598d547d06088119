"""Electronic social security card (电子社保卡) QR codes: signed, short-lived and single use.

A code is ``ESSC1.<payload>.<signature>`` (base64url without padding). The payload, big-endian::

    version (1 byte, = 1) | kind (1: b"p" person, b"o" operator) | issued_at (u32, Unix s)
    | ttl (u16, s, at most MAX_TTL_SECONDS) | code_id (12 random bytes) | key_id (4 bytes)
    | subject (UTF-8, 1-64 bytes: the person's row id, or the operator's account)

and the signature is Ed25519 over ``b"ESSC1." + payload`` by the issuer key ``key_id``. The
subject is a platform reference, never an ID number: a photographed code tells nothing.

:func:`verify` checks, in this order: shape, key, signature, kind, time window (issued at most
``CLOCK_SLACK_SECONDS`` in the future, not past ``issued_at + ttl``), then spends ``code_id``
(a primary key in ``essc_spent_codes``, so a second use fails in any worker of any server
sharing the database). Every failure raises :class:`EsscCodeError` with a stable ``code`` and a
Chinese message for the screen. Static strings such as ``ESSC-DEMO-OPERATOR-04`` fail the shape.

The reference platform is its own issuer: it keeps one Ed25519 key in ``essc_issuer_keys``
(created on first use) and mints codes for demo mode, the tests and ``kiosk backend
essc-code``. A province platform verifies the national service's codes with its public key;
only :func:`verify`'s key lookup would change.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import struct
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk_backend.errors import ApiError
from kiosk_backend.identity import normalize_id_number
from kiosk_backend.identity_models import EsscFailure, EsscIssuerKey, EsscSpentCode
from kiosk_backend.models import Operator, Person

PREFIX = "ESSC1"
VERSION = 1
KIND_PERSON = "p"
KIND_OPERATOR = "o"
MAX_TTL_SECONDS = 120
CLOCK_SLACK_SECONDS = 5
MAX_SUBJECT_BYTES = 64
_HEADER = struct.Struct(">B1sIH12s4s")
_SIGNATURE_BYTES = 64


class EsscCodeError(ValueError):
    """A code that does not verify; ``code`` is stable, ``message`` Chinese for the screen."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def unrecognised() -> EsscCodeError:
    return EsscCodeError("qr_not_recognised", "无法识别该电子社保卡二维码，请刷新后重新出示")


def expired() -> EsscCodeError:
    return EsscCodeError("qr_expired", "电子社保卡二维码已过期，请刷新后重新出示")


def already_used() -> EsscCodeError:
    return EsscCodeError("qr_already_used", "该二维码已使用过，请刷新电子社保卡二维码后重新出示")


@dataclass(frozen=True)
class EsscClaims:
    """What a verified code says: ``kind`` (p/o), ``subject``, ``code_id`` (hex), times."""

    kind: str
    subject: str
    code_id: str
    issued_at: dt.datetime
    expires_at: dt.datetime


# --- the issuer key -----------------------------------------------------------------------------


def _key_id(key: Ed25519PrivateKey) -> str:
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(public).hexdigest()[:8]


def issuer_key(session: Session, now: dt.datetime) -> tuple[str, Ed25519PrivateKey]:
    """The platform's signing key (created on first use; two workers racing keep one)."""
    row = session.scalar(select(EsscIssuerKey).order_by(EsscIssuerKey.created_at).limit(1))
    if row is None:
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes_raw()
        session.add(EsscIssuerKey(key_id=_key_id(key), private_key_hex=raw.hex(), created_at=now))
        try:
            session.commit()
        except IntegrityError:  # pragma: no cover - only when two first uses race
            session.rollback()
        row = session.scalar(select(EsscIssuerKey).order_by(EsscIssuerKey.created_at).limit(1))
    return row.key_id, Ed25519PrivateKey.from_private_bytes(bytes.fromhex(row.private_key_hex))


def _public_key(session: Session, key_id: str):
    row = session.get(EsscIssuerKey, key_id)
    if row is None:
        return None
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(row.private_key_hex)).public_key()


# --- minting ------------------------------------------------------------------------------------


def mint(
    session: Session,
    kind: str,
    subject: str,
    *,
    now: dt.datetime,
    ttl_seconds: int = MAX_TTL_SECONDS,
) -> str:
    """A fresh code for *subject* (commits the issuer key if it had to be created)."""
    if kind not in (KIND_PERSON, KIND_OPERATOR):
        raise ValueError("kind must be 'p' (person) or 'o' (operator)")
    if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be 1-{MAX_TTL_SECONDS} seconds")
    subject_bytes = subject.encode("utf-8")
    if not 1 <= len(subject_bytes) <= MAX_SUBJECT_BYTES:
        raise ValueError(f"subject must be 1-{MAX_SUBJECT_BYTES} bytes")
    key_id, key = issuer_key(session, now)
    payload = (
        _HEADER.pack(
            VERSION,
            kind.encode("ascii"),
            int(now.timestamp()),
            ttl_seconds,
            secrets.token_bytes(12),
            bytes.fromhex(key_id),
        )
        + subject_bytes
    )
    signature = key.sign(PREFIX.encode("ascii") + b"." + payload)
    return f"{PREFIX}.{_b64(payload)}.{_b64(signature)}"


def mint_for(
    session: Session,
    *,
    person: str | None = None,
    operator: str | None = None,
    demo_label: str | None = None,
    now: dt.datetime | None = None,
    ttl_seconds: int = MAX_TTL_SECONDS,
) -> str:
    """A fresh code for the person with ID number *person*, the operator account *operator*,
    or the seeded demo person/operator whose ``essc_qr`` label is *demo_label* (for example
    ``ESSC-DEMO-RESIDENT-04``: the labels name demo accounts, they no longer verify).

    Raises LookupError (message without the ID number) when there is no such person/operator.
    """
    now = now or dt.datetime.now(dt.UTC)
    if sum(value is not None for value in (person, operator, demo_label)) != 1:
        raise ValueError("give exactly one of person, operator, demo_label")
    if person is not None:
        number = normalize_id_number(person)
        found = session.scalar(select(Person.id).where(Person.id_number == number))
        if found is None:
            raise LookupError("no person with that ID number on this platform")
        return mint(session, KIND_PERSON, str(found), now=now, ttl_seconds=ttl_seconds)
    if operator is not None:
        if session.scalar(select(Operator.account).where(Operator.account == operator)) is None:
            raise LookupError(f"no operator account {operator!r}")
        return mint(session, KIND_OPERATOR, operator, now=now, ttl_seconds=ttl_seconds)
    row_id = session.scalar(select(Person.id).where(Person.essc_qr == demo_label))
    if row_id is not None:
        return mint(session, KIND_PERSON, str(row_id), now=now, ttl_seconds=ttl_seconds)
    account = session.scalar(select(Operator.account).where(Operator.essc_qr == demo_label))
    if account is None:
        raise LookupError(f"no demo account labelled {demo_label!r}")
    return mint(session, KIND_OPERATOR, account, now=now, ttl_seconds=ttl_seconds)


def mint_in_database(db_url: str, **who: Any) -> str:
    """:func:`mint_for` on the database at *db_url* (which must be migrated already)."""
    from kiosk_backend.db import make_engine, make_session_factory

    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            return mint_for(session, **who)
    finally:
        engine.dispose()


# --- verifying ----------------------------------------------------------------------------------


def verify(
    session: Session, code: str, *, kind: str, kiosk_id: str, now: dt.datetime
) -> EsscClaims:
    """Check *code* and spend it (commits the spent id). Raises :class:`EsscCodeError`."""
    payload, signature = _split(code)
    version, raw_kind, issued, ttl, code_id, key_id, subject = _unpack(payload)
    public = _public_key(session, key_id.hex())
    if version != VERSION or public is None:
        raise unrecognised()
    try:
        public.verify(signature, PREFIX.encode("ascii") + b"." + payload)
    except InvalidSignature:
        raise unrecognised() from None
    if raw_kind != kind.encode("ascii"):
        raise unrecognised()
    issued_at = dt.datetime.fromtimestamp(issued, dt.UTC)
    expires_at = issued_at + dt.timedelta(seconds=min(ttl, MAX_TTL_SECONDS))
    if issued_at > now + dt.timedelta(seconds=CLOCK_SLACK_SECONDS) or now >= expires_at:
        raise expired()
    _spend(session, code_id.hex(), kiosk_id, now, expires_at)
    return EsscClaims(kind, subject, code_id.hex(), issued_at, expires_at)


def _split(code: str) -> tuple[bytes, bytes]:
    parts = code.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise unrecognised()
    try:
        payload, signature = _unb64(parts[1]), _unb64(parts[2])
    except ValueError:
        raise unrecognised() from None
    if len(signature) != _SIGNATURE_BYTES or len(payload) <= _HEADER.size:
        raise unrecognised()
    return payload, signature


def _unpack(payload: bytes) -> tuple[int, bytes, int, int, bytes, bytes, str]:
    version, kind, issued, ttl, code_id, key_id = _HEADER.unpack_from(payload)
    try:
        subject = payload[_HEADER.size :].decode("utf-8")
    except UnicodeDecodeError:
        raise unrecognised() from None
    return version, kind, issued, ttl, code_id, key_id, subject


def _spend(
    session: Session, code_id: str, kiosk_id: str, now: dt.datetime, expires_at: dt.datetime
) -> None:
    purge_spent(session, now)
    session.add(
        EsscSpentCode(code_id=code_id, kiosk_id=kiosk_id, spent_at=now, expires_at=expires_at)
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise already_used() from None


def purge_spent(session: Session, now: dt.datetime) -> None:
    """Forget spent ids of codes that would be refused as expired anyway (caller commits)."""
    slack = dt.timedelta(seconds=CLOCK_SLACK_SECONDS)
    session.execute(delete(EsscSpentCode).where(EsscSpentCode.expires_at < now - slack))


# --- the per-kiosk attempt limit --------------------------------------------------------------


TOO_MANY_FAILURES_MESSAGE = "本机扫码核验失败次数过多，请稍后再试，或刷社保卡、放置身份证"


def refuse_if_too_many_failures(
    session: Session, kiosk_id: str, now: dt.datetime, *, limit: int, window_seconds: int
) -> None:
    """ApiError 429 ``too_many_attempts`` when the kiosk failed *limit* times in the window."""
    since = now - dt.timedelta(seconds=window_seconds)
    failures = session.scalar(
        select(func.count())
        .select_from(EsscFailure)
        .where(EsscFailure.kiosk_id == kiosk_id, EsscFailure.at >= since)
    )
    if failures >= limit:
        raise ApiError(429, "too_many_attempts", TOO_MANY_FAILURES_MESSAGE, "qr")


def note_failure(session: Session, kiosk_id: str, now: dt.datetime, *, window_seconds: int) -> None:
    """Count one failed verification of *kiosk_id* (and forget the kiosk's old ones). Commits."""
    since = now - dt.timedelta(seconds=window_seconds)
    session.execute(
        delete(EsscFailure).where(EsscFailure.kiosk_id == kiosk_id, EsscFailure.at < since)
    )
    session.add(EsscFailure(kiosk_id=kiosk_id, at=now))
    session.commit()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or len(text) > 400 or not text.isascii():
        raise ValueError("bad base64")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise ValueError("bad base64") from None


# --- the web console's sign-in ------------------------------------------------------------------

CONSOLE_PLACE = "console"


def operator_for_code(session: Session, code: str, *, now: dt.datetime) -> Operator | None:
    """The staff account a signed operator code names, spending the code; None when it does
    not verify (shape, signature, kind, time, already used) or names no account. The console
    counts failures with its own throttle, so none are noted per kiosk here."""
    try:
        claims = verify(session, code, kind=KIND_OPERATOR, kiosk_id=CONSOLE_PLACE, now=now)
    except EsscCodeError:
        return None
    return session.scalar(select(Operator).where(Operator.account == claims.subject))
