"""Tables of the 问题台账 (ticket ledger) and 责任清单 (responsibility list) of 附件5.

- ``ledger_tickets``: one device fault or problem report, with its routing level, holder, answer
  deadline, latest answer (result + 反馈时限) and state. ``open_fault_key`` equals ``fault_key``
  while a device ticket is open and is NULL otherwise, so the unique constraint on
  (kiosk_id, open_fault_key) keeps one open ticket per kiosk and fault in the database itself.
- ``ledger_events``: the history (submitted, assigned, answered, escalated, closed) — nothing is
  overwritten without a trace.
- ``ledger_responders``: the desks of the county / city / province that answer tickets. A desk
  signs its requests like a kiosk (it is provisioned with its own HMAC secret in ``kiosks``, with
  kind ``desk`` so that kiosk endpoints refuse it, see
  :func:`kiosk_backend.ledger.add_responder`); this table says which level and region it holds.

Created by migration 0002_ticket_ledger. Imported by :mod:`kiosk_backend.models` so that
``Base.metadata`` always holds these tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_backend.models import Base, UtcDateTime


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LedgerTicket(Base):
    __tablename__ = "ledger_tickets"
    __table_args__ = (
        UniqueConstraint("kiosk_id", "client_ref", name="uq_ledger_tickets_client_ref"),
        UniqueConstraint("kiosk_id", "open_fault_key", name="uq_ledger_tickets_open_fault"),
        Index("ix_ledger_tickets_state_level", "state", "level"),
        Index("ix_ledger_tickets_kiosk", "kiosk_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    client_ref: Mapped[str] = mapped_column(String(64))
    service_point: Mapped[str] = mapped_column(String(200), default="")
    region_code: Mapped[str] = mapped_column(String(12), default="")
    kind: Mapped[str] = mapped_column(String(20))  # device_fault / problem_report
    category: Mapped[str] = mapped_column(String(20))
    fault_key: Mapped[str] = mapped_column(String(100), default="")
    open_fault_key: Mapped[str | None] = mapped_column(String(100))
    problem_code: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[str] = mapped_column(Text, default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    reporter: Mapped[str] = mapped_column(String(20))  # kiosk / resident / operator
    occurred_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    item_no: Mapped[int | None] = mapped_column(Integer)  # the item a 问题反映 is about
    business_line: Mapped[str] = mapped_column(String(20), default="")  # of item_no
    state: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20))
    assignee: Mapped[str] = mapped_column(String(64), default="")
    assigned_on: Mapped[dt.date] = mapped_column(Date)
    answer_due: Mapped[dt.date] = mapped_column(Date)
    answer_due_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    answer_result: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(64), default="")
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    feedback_deadline: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    closed_by: Mapped[str] = mapped_column(String(64), default="")
    resolution: Mapped[str] = mapped_column(Text, default="")


class LedgerEvent(Base):
    __tablename__ = "ledger_events"
    __table_args__ = (Index("ix_ledger_events_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ledger_tickets.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    from_level: Mapped[str] = mapped_column(String(20), default="")
    to_level: Mapped[str] = mapped_column(String(20), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    feedback_deadline: Mapped[dt.date | None] = mapped_column(Date)


class Responder(Base):
    __tablename__ = "ledger_responders"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(20))
    # Region codes this desk covers by prefix ("140431" a county, "1404" a city, "" all).
    region_prefix: Mapped[str] = mapped_column(String(12), default="")
    # 附件5 指定业务骨干: the business line this desk answers ("" = every line)
    business_line: Mapped[str] = mapped_column(String(20), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
