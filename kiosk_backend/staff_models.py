"""Tables of the staff side of the platform (migration 0009): 附件3 account applications and
monthly reviews, console sessions and sign-in throttling, the audit trail, heartbeat history.

- ``account_requests``: one 用户申请（变更）单 — new account, role change, freeze, unlock,
  cancel, reset — from filing through the 业务管理员's decision to the 系统管理员's execution.
- ``account_reviews``: one signed-off 每月核查 per month and region, with the list as it was
  signed (``rows``), kept unchanged.
- ``console_sessions``: a signed-in console user; only a hash of the cookie's token is stored.
- ``console_signin_throttle``: failed sign-ins per key (an account or a client address), so the
  limit holds across restarts and workers.
- ``audit_entries``: who did what, when, before → after (personal values masked), scoped by
  region so each 业务管理员 reads their own region's trail.
- ``kiosk_heartbeats``: each heartbeat's summary, for the fleet's history chart.

Imported by :mod:`kiosk_backend.models` so that ``Base.metadata`` always holds these tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_backend.models import Base, UtcDateTime


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AccountRequest(Base):
    __tablename__ = "account_requests"
    __table_args__ = (Index("ix_account_requests_region_state", "region_code", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    account: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str] = mapped_column(String(12))
    applicant_unit: Mapped[str] = mapped_column(String(100))
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(20))
    proposed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="submitted")
    filed_by: Mapped[str] = mapped_column(String(40))
    filed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    decided_by: Mapped[str] = mapped_column(String(40), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    opinion: Mapped[str] = mapped_column(Text, default="")
    executed_by: Mapped[str] = mapped_column(String(40), default="")
    executed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class AccountReview(Base):
    __tablename__ = "account_reviews"
    __table_args__ = (UniqueConstraint("month", "region_code", name="uq_account_reviews_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    region_code: Mapped[str] = mapped_column(String(12))
    signed_by: Mapped[str] = mapped_column(String(40))
    signed_by_name: Mapped[str] = mapped_column(String(50))
    signed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    rows: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ConsoleSession(Base):
    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(String(40), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))  # essc / password
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow, index=True)


class SigninThrottle(Base):
    __tablename__ = "console_signin_throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_region", "region_code", "id"),
        Index("ix_audit_entries_target", "target_kind", "target", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    target_kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(64))
    region_code: Mapped[str] = mapped_column(String(12), default="")
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")


class KioskHeartbeat(Base):
    __tablename__ = "kiosk_heartbeats"
    __table_args__ = (Index("ix_kiosk_heartbeats_kiosk_at", "kiosk_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    version: Mapped[str] = mapped_column(String(40), default="")
    paper_level: Mapped[str] = mapped_column(String(20), default="unknown")
    outbox_depth: Mapped[int] = mapped_column(Integer, default=0)
    device_faults: Mapped[int] = mapped_column(Integer, default=0)
