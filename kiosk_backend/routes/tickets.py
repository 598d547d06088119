"""Fault tickets and problem reports (附件5; routing is added by the fault workflow), help calls."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk_backend.answers import commit_with_answer
from kiosk_backend.deps import calling_kiosk_id, db_session
from kiosk_backend.errors import ApiError, not_found
from kiosk_backend.models import HelpRequest, Ticket
from kiosk_backend.schemas import NO_CONTROL_CHARS, Strict

router = APIRouter(tags=["tickets"])

Category = Literal["system", "functional", "guidance", "device"]
State = Literal["open", "closed"]


class TicketCreate(Strict):
    category: Category = Field(description="系统性 / 功能性 / 业务指导性 / 设备故障")
    kind: Literal["device_fault", "problem_report"]
    fault_key: Annotated[str, StringConstraints(max_length=100, pattern=r"^[A-Za-z0-9_.:-]*$")] = ""
    description: Annotated[
        str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)
    ]
    suggestion: Annotated[str, StringConstraints(max_length=2000)] = ""


class TicketClose(Strict):
    resolution: Annotated[str, StringConstraints(max_length=2000)] = ""


class TicketOut(BaseModel):
    id: int
    kiosk_id: str
    category: Category
    kind: Literal["device_fault", "problem_report"]
    fault_key: str
    description: str
    suggestion: str
    state: State
    created_at: dt.datetime
    closed_at: dt.datetime | None
    resolution: str


class TicketList(BaseModel):
    items: list[TicketOut]


class HelpCreate(Strict):
    """请工作人员帮忙: where the resident is stuck. No personal data."""

    screen: Annotated[
        str, StringConstraints(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    ]
    item_no: int | None = Field(None, ge=1, le=40)


class HelpOut(BaseModel):
    id: int
    created_at: dt.datetime
    message: str


def _out(t: Ticket) -> TicketOut:
    return TicketOut(
        id=t.id,
        kiosk_id=t.kiosk_id,
        category=t.category,
        kind=t.kind,
        fault_key=t.fault_key,
        description=t.description,
        suggestion=t.suggestion,
        state=t.state,
        created_at=t.created_at,
        closed_at=t.closed_at,
        resolution=t.resolution,
    )


@router.post("/tickets", response_model=TicketOut, summary="故障工单 / 问题反映")
def create_ticket(
    body: TicketCreate, request: Request, session: Annotated[Session, Depends(db_session)]
) -> Response:
    if body.kind == "device_fault" and body.category != "device":
        raise ApiError(422, "invalid_field", "设备故障的类别应为 device", "category")
    ticket = Ticket(
        kiosk_id=calling_kiosk_id(request),
        category=body.category,
        kind=body.kind,
        fault_key=body.fault_key,
        description=body.description,
        suggestion=body.suggestion,
        state="open",
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(ticket)
    session.flush()
    return commit_with_answer(session, request, _out(ticket))


@router.post("/tickets/{ticket_id}/close", response_model=TicketOut, summary="关闭工单")
def close_ticket(
    ticket_id: Annotated[int, Path(ge=1, le=2_000_000_000)],
    body: TicketClose,
    request: Request,
    session: Annotated[Session, Depends(db_session)],
) -> TicketOut:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.kiosk_id != calling_kiosk_id(request):
        raise not_found("没有这个工单")
    if ticket.state != "closed":
        ticket.state = "closed"
        ticket.closed_at = dt.datetime.now(dt.UTC)
        ticket.resolution = body.resolution
        session.commit()
    return _out(ticket)


@router.get(
    "/tickets",
    response_model=TicketList,
    summary="本机工单列表",
    responses={403: {"description": "只能查看本机的工单"}},
)
def list_tickets(
    request: Request,
    session: Annotated[Session, Depends(db_session)],
    kiosk: Annotated[str | None, Query(max_length=64, pattern=NO_CONTROL_CHARS)] = None,
    state: State | None = None,
) -> TicketList:
    caller = calling_kiosk_id(request)
    if kiosk is not None and kiosk != caller:
        raise ApiError(403, "forbidden", "只能查看本机的工单")
    query = select(Ticket).where(Ticket.kiosk_id == caller)
    if state:
        query = query.where(Ticket.state == state)
    rows = session.scalars(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(200))
    return TicketList(items=[_out(t) for t in rows])


@router.post("/help-requests", response_model=HelpOut, summary="请工作人员帮忙")
def help_request(
    body: HelpCreate, request: Request, session: Annotated[Session, Depends(db_session)]
) -> Response:
    call = HelpRequest(
        kiosk_id=calling_kiosk_id(request),
        screen=body.screen,
        item_no=body.item_no,
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(call)
    session.flush()
    answer = HelpOut(id=call.id, created_at=call.created_at, message="已通知工作人员，请稍候")
    return commit_with_answer(session, request, answer)
