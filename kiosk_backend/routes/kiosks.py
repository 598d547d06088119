"""Kiosk registration (announce) and heartbeat."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk_backend.deps import calling_kiosk, db_session
from kiosk_backend.errors import ApiError
from kiosk_backend.ledger_models import LedgerTicket
from kiosk_backend.schemas import Strict
from kiosk_backend.staff_models import KioskHeartbeat
from kiosk_backend.ticket_routing import OPEN_STATES

router = APIRouter(prefix="/kiosks", tags=["kiosks"])

Version = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class KioskAnnounce(Strict):
    version: Version
    service_point: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    region_code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
    capabilities: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=50, description="e.g. idcard, sscard, printer, scanner"
    )


class KioskRegistration(BaseModel):
    kiosk_id: str
    service_point: str
    registered_at: dt.datetime
    server_time: dt.datetime


class DeviceHealthIn(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    state: Literal["ok", "fault", "offline", "unknown", "disabled"]
    detail: Annotated[str, StringConstraints(max_length=200)] = ""
    last_error: Annotated[str, StringConstraints(max_length=200)] = ""
    counters: dict[Annotated[str, StringConstraints(max_length=40)], int] = Field(
        default_factory=dict, max_length=30
    )
    transport: Annotated[str, StringConstraints(max_length=200)] = ""


class Heartbeat(Strict):
    version: Version
    devices: list[DeviceHealthIn] = Field(default_factory=list, max_length=20)
    paper_level: Literal["ok", "low", "out", "unknown"] = "unknown"
    outbox_depth: int = Field(0, ge=0, le=10_000_000)


class HeartbeatAck(BaseModel):
    server_time: dt.datetime
    open_tickets: int = Field(description="本机在问题台账中未关闭的工单数")


@router.post(
    "/register", response_model=KioskRegistration, summary="设备注册（版本、服务点、能力）"
)
def register(
    body: KioskAnnounce, request: Request, session: Annotated[Session, Depends(db_session)]
) -> KioskRegistration:
    kiosk = calling_kiosk(request, session)
    if kiosk is None:  # authenticated a moment ago; only a concurrent delete gets here
        raise ApiError(401, "unauthenticated", "设备认证失败，请联系工作人员")
    now = dt.datetime.now(dt.UTC)
    kiosk.version = body.version
    kiosk.service_point = body.service_point
    kiosk.region_code = body.region_code
    kiosk.capabilities = list(body.capabilities)
    kiosk.announced_at = now
    session.commit()
    return KioskRegistration(
        kiosk_id=kiosk.id,
        service_point=kiosk.service_point,
        registered_at=kiosk.registered_at,
        server_time=now,
    )


@router.post(
    "/heartbeat", response_model=HeartbeatAck, summary="心跳（设备健康、纸量、待发队列、版本）"
)
def heartbeat(
    body: Heartbeat, request: Request, session: Annotated[Session, Depends(db_session)]
) -> HeartbeatAck:
    kiosk = calling_kiosk(request, session)
    if kiosk is None:
        raise ApiError(401, "unauthenticated", "设备认证失败，请联系工作人员")
    now = dt.datetime.now(dt.UTC)
    kiosk.version = body.version
    kiosk.last_heartbeat_at = now
    kiosk.last_devices = [d.model_dump() for d in body.devices]
    kiosk.paper_level = body.paper_level
    kiosk.outbox_depth = body.outbox_depth
    session.add(  # the history the console draws
        KioskHeartbeat(
            kiosk_id=kiosk.id,
            at=now,
            version=body.version,
            paper_level=body.paper_level,
            outbox_depth=body.outbox_depth,
            device_faults=sum(1 for d in body.devices if d.state in ("fault", "offline")),
        )
    )
    session.commit()
    open_tickets = session.scalar(
        select(func.count())
        .select_from(LedgerTicket)
        .where(
            LedgerTicket.kiosk_id == kiosk.id,
            LedgerTicket.state.in_([s.value for s in OPEN_STATES]),
        )
    )
    return HeartbeatAck(server_time=now, open_tickets=open_tickets or 0)
