"""The platform's copy of each kiosk's maintenance audit-log head (from heartbeats).

The heartbeat carries ``audit_head`` ({seq, hash} of the kiosk's last audit entry);
:func:`record_audit_head` keeps one row per change and flags a head that goes backwards.
``GET /kiosks/audit-heads`` gives a kiosk the heads the platform holds for it, newest first,
so that ``kiosk audit verify`` can prove the local log still contains every one of them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk_backend.deps import calling_kiosk_id, db_session
from kiosk_backend.models import KioskAuditHead
from kiosk_backend.schemas import Strict

router = APIRouter(prefix="/kiosks", tags=["kiosks"])

HEADS_SHOWN = 200


class AuditHeadIn(Strict):
    seq: int = Field(ge=0, le=2_000_000_000)
    hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class AuditHeadOut(BaseModel):
    seq: int
    hash: str
    received_at: dt.datetime
    regression: bool = Field(description="这个记录头比上一个倒退（本机审计记录被删改）")


class AuditHeads(BaseModel):
    heads: list[AuditHeadOut] = Field(description="最新在前，最多200条")


def record_audit_head(session: Session, kiosk_id: str, head: AuditHeadIn, now: dt.datetime) -> None:
    """Keep *head* when it differs from the kiosk's last one (the caller commits)."""
    last = session.scalar(
        select(KioskAuditHead)
        .where(KioskAuditHead.kiosk_id == kiosk_id)
        .order_by(KioskAuditHead.id.desc())
        .limit(1)
    )
    if last is not None and (last.seq, last.hash) == (head.seq, head.hash):
        return
    regression = last is not None and (
        head.seq < last.seq or (head.seq == last.seq and head.hash != last.hash)
    )
    session.add(
        KioskAuditHead(
            kiosk_id=kiosk_id,
            seq=head.seq,
            hash=head.hash,
            received_at=now,
            regression=regression,
        )
    )


@router.get("/audit-heads", response_model=AuditHeads, summary="平台保存的本机审计记录头")
def audit_heads(request: Request, session: Annotated[Session, Depends(db_session)]) -> AuditHeads:
    rows = session.scalars(
        select(KioskAuditHead)
        .where(KioskAuditHead.kiosk_id == calling_kiosk_id(request))
        .order_by(KioskAuditHead.id.desc())
        .limit(HEADS_SHOWN)
    )
    return AuditHeads(
        heads=[
            AuditHeadOut(
                seq=row.seq, hash=row.hash, received_at=row.received_at, regression=row.regression
            )
            for row in rows
        ]
    )
