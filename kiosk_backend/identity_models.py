"""Tables of identity sessions, e-SSC code verification and the per-kiosk person limit.

- ``identity_sessions``: one identification at one kiosk (a resident's visit), found by the
  SHA-256 of its bearer token (the token itself is never stored). ``ref`` is the session's
  public reference (the kiosk keeps it so its outbox can file a late submission, see
  :func:`kiosk_backend.identity_sessions.resume`). ``submission_key`` is set on a token that
  may file exactly one submission (that Idempotency-Key) and read nothing.
- ``identity_members``: who a session covers (resident, and a 代办 agent), by person digest
  (SHA-256 of the canonical ID number), each with the evidence that identified them.
- ``identity_person_seen``: the last identification of each person at each kiosk, for the
  distinct-persons-per-window limit (state in the database, so it holds across workers).
- ``essc_issuer_keys``: the Ed25519 key the reference platform signs demo e-SSC codes with
  (the province's platform verifies the national service's codes instead).
- ``essc_spent_codes``: every e-SSC code id verified once; the primary key makes a second use
  fail in any worker. ``essc_failures``: failed verifications per kiosk (attempt limit).

Created by migration 0006. Imported by :mod:`kiosk_backend.models` so that ``Base.metadata``
always holds these tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_backend.models import Base, UtcDateTime


class IdentitySession(Base):
    __tablename__ = "identity_sessions"
    __table_args__ = (Index("ix_identity_sessions_kiosk", "kiosk_id", "issued_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    # Sliding expiry never passes this (the session's absolute lifetime).
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    submission_key: Mapped[str | None] = mapped_column(String(36))
    resumed_from: Mapped[int | None] = mapped_column(Integer)


class IdentityMember(Base):
    __tablename__ = "identity_members"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("identity_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    person_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))  # resident / agent
    evidence: Mapped[str] = mapped_column(String(30))
    observed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class IdentityPersonSeen(Base):
    __tablename__ = "identity_person_seen"

    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)


class EsscIssuerKey(Base):
    __tablename__ = "essc_issuer_keys"

    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    private_key_hex: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class EsscSpentCode(Base):
    __tablename__ = "essc_spent_codes"

    code_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    spent_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    # Kept until the code could no longer verify anyway, then purged.
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)


class EsscFailure(Base):
    __tablename__ = "essc_failures"
    __table_args__ = (Index("ix_essc_failures_kiosk", "kiosk_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
