"""问题台账 API (附件5): kiosks open/close/list their tickets; county, city and province desks
answer, escalate and close them and read the 责任清单.

Authentication: everyone signs requests with the contract's HMAC scheme. Kiosks use their
kiosk id; a responder desk is provisioned with its own id and secret
(``python -m kiosk_backend.ledger_admin add-responder``) and the desk endpoints answer 403 to
anyone who is not a responder.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator
from sqlalchemy.orm import Session

from kiosk.domain.catalogue import BUSINESS_LINES
from kiosk.domain.problems import CATEGORY_LABELS, ProblemCategory
from kiosk_backend import ledger
from kiosk_backend.answers import commit_with_answer
from kiosk_backend.deps import answer_days, calling_kiosk_id, db_session, local_today
from kiosk_backend.errors import ApiError
from kiosk_backend.ledger_models import LedgerEvent, LedgerTicket, Responder
from kiosk_backend.routing import OUTBOX
from kiosk_backend.schemas import Phone, Strict
from kiosk_backend.ticket_routing import (
    ANSWER_WORKING_DAYS,
    LEVEL_LABELS,
    STATE_LABELS,
    Level,
    TicketState,
    overdue,
)

router = APIRouter(prefix="/ledger", tags=["ledger"])

KIOSK_ONLY = {403: {"description": "责任人账号不能以服务点身份提交或查看工单"}}
DESK_ONLY = {403: {"description": "仅县、市、省级责任人可以办理；或工单目前由其他层级办理"}}

Category = Literal["system", "functional", "guidance", "device"]
Kind = Literal["device_fault", "problem_report"]
Reporter = Literal["kiosk", "resident", "operator"]
StateFilter = Literal["open", "closed", "all"]
ClientRef = Annotated[
    str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]
FaultKey = Annotated[str, StringConstraints(max_length=100, pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")]
Text = Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True)]
RequiredText = Annotated[
    str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)
]
TicketId = Annotated[int, Path(ge=1, le=2_000_000_000)]


class LedgerTicketCreate(Strict):
    """A device fault (kind device_fault, category device, fault_key) or a 问题反映."""

    client_ref: ClientRef = Field(description="the kiosk's own reference; a repeat is a no-op")
    kind: Kind
    category: Category = Field(description="系统性 / 功能性 / 业务指导性 / 设备故障")
    reporter: Reporter
    fault_key: FaultKey | Literal[""] = ""
    problem_code: Annotated[str, StringConstraints(max_length=40)] = ""
    description: Text = ""
    suggestion: Text = ""
    contact_phone: Phone | None = None
    occurred_at: dt.datetime | None = None
    item_no: int | None = Field(
        None,
        ge=1,
        le=40,
        description="问题涉及的事项（附件2 序号）：由该业务条线的指定业务骨干答复",
    )

    @model_validator(mode="after")
    def _consistent(self):
        if self.kind == "device_fault":
            if self.category != "device":
                raise ValueError("设备故障的类别应为 device")
            if not self.fault_key:
                raise ValueError("设备故障需要故障代码 fault_key")
            if self.item_no is not None:
                raise ValueError("设备故障不涉及具体事项")
        elif self.fault_key:
            raise ValueError("问题反映不带故障代码")
        if self.reporter == "resident" and self.category == "device":
            raise ValueError("群众反映的问题应为系统性、功能性或业务指导性问题")
        return self

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("时间需带时区")
        return value


class LedgerTicketClose(Strict):
    client_ref: ClientRef
    fault_key: FaultKey | Literal[""] = ""
    resolution: Text = ""


class AnswerIn(Strict):
    result: RequiredText = Field(description="处理结果")
    feedback_deadline: dt.date = Field(description="反馈时限：承诺办结的日期")


class EscalateIn(Strict):
    reason: RequiredText = Field(description="本级无法解决的原因")


class CloseIn(Strict):
    resolution: RequiredText


class HolderOut(BaseModel):
    level: Level
    level_label: str
    account: str = Field(description="责任人账号；空表示该级尚未配置责任人")
    name: str
    role: str
    business_line: str = Field("", description="责任人负责的业务条线；空表示全部条线")
    business_line_label: str = ""


class AnswerOut(BaseModel):
    result: str
    feedback_deadline: dt.date | None
    answered_at: dt.datetime | None
    answered_by: str


class EventOut(BaseModel):
    at: dt.datetime
    action: str
    actor: str
    from_level: str
    to_level: str
    text: str
    feedback_deadline: dt.date | None


class LedgerTicketOut(BaseModel):
    id: int
    number: str
    client_ref: str
    kiosk_id: str
    service_point: str
    kind: Kind
    category: Category
    category_label: str
    fault_key: str
    problem_code: str
    description: str
    suggestion: str
    contact_phone: str = Field(description="masked for kiosks, full for responder desks")
    reporter: str
    item_no: int | None = Field(None, description="问题涉及的事项")
    business_line: str = Field(
        "", description="事项所属业务条线：employment / social_insurance / card"
    )
    business_line_label: str = Field("", description="就业 / 社保 / 社保卡")
    state: TicketState
    state_label: str
    holder: HolderOut
    assigned_on: dt.date
    answer_due: dt.date
    answer_due_estimated: bool
    answer: AnswerOut | None
    overdue: bool
    answer_overdue: bool
    feedback_overdue: bool
    created_at: dt.datetime
    closed_at: dt.datetime | None
    resolution: str
    duplicate: bool = Field(False, description="true: an open ticket already existed")
    events: list[EventOut]


class LocalRuleOut(BaseModel):
    """A rule the county sets itself (附件5 gives no number): shown so everyone knows it."""

    key: str
    label: str
    value: int
    default: int
    unit: str
    note: str


class LedgerTicketList(BaseModel):
    items: list[LedgerTicketOut]
    today: dt.date
    local_rules: list[LocalRuleOut] = Field(
        default_factory=list, description="答复时限等本地规定（可配置）"
    )


class ResponsibilityItem(BaseModel):
    ticket_id: int
    number: str
    kiosk_id: str
    service_point: str
    category_label: str
    summary: str
    state_label: str
    holder: HolderOut
    answer_due: dt.date
    feedback_deadline: dt.date | None
    overdue: bool


class ResponderOut(BaseModel):
    account: str
    name: str
    role: str
    level: Level
    level_label: str
    region_prefix: str
    business_line: str = Field("", description="指定业务骨干的业务条线；空表示全部条线")
    business_line_label: str = ""
    open_tickets: int
    overdue_tickets: int


class ResponsibilityList(BaseModel):
    today: dt.date
    responders: list[ResponderOut]
    items: list[ResponsibilityItem]
    local_rules: list[LocalRuleOut] = Field(description="答复时限等本地规定（可配置）")


# --- views -----------------------------------------------------------------------------------


def _mask_phone(phone: str) -> str:
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def _holder(ticket: LedgerTicket, desks: dict[str, Responder]) -> HolderOut:
    level = Level(ticket.level)
    desk = desks.get(ticket.assignee)
    line = desk.business_line if desk else ""
    return HolderOut(
        level=level,
        level_label=LEVEL_LABELS[level],
        account=ticket.assignee,
        name=desk.name if desk else "",
        role=desk.role if desk else "",
        business_line=line,
        business_line_label=BUSINESS_LINES.get(line, ""),
    )


def local_rules(request: Request) -> list[LocalRuleOut]:
    """The deployment's answer deadlines, as a local rule beside today's defaults."""
    days = answer_days(request)
    return [
        LocalRuleOut(
            key=f"answer_working_days.{level.value}",
            label=f"{LEVEL_LABELS[level]}答复时限",
            value=days[level],
            default=ANSWER_WORKING_DAYS[level],
            unit="个工作日",
            note="本地规定（附件5未规定天数），可由平台配置修改",
        )
        for level in Level
    ]


def _view(
    ticket: LedgerTicket,
    events: list[LedgerEvent],
    desks: dict[str, Responder],
    today: dt.date,
    *,
    full_phone: bool,
    duplicate: bool = False,
) -> LedgerTicketOut:
    state = TicketState(ticket.state)
    late = overdue(state, ticket.answer_due, ticket.feedback_deadline, today)
    answer = None
    if ticket.answered_at is not None:
        answer = AnswerOut(
            result=ticket.answer_result,
            feedback_deadline=ticket.feedback_deadline,
            answered_at=ticket.answered_at,
            answered_by=ticket.answered_by,
        )
    return LedgerTicketOut(
        id=ticket.id,
        number=ticket.number or "",
        client_ref=ticket.client_ref,
        kiosk_id=ticket.kiosk_id,
        service_point=ticket.service_point,
        kind=ticket.kind,
        category=ticket.category,
        category_label=CATEGORY_LABELS[ProblemCategory(ticket.category)],
        fault_key=ticket.fault_key,
        problem_code=ticket.problem_code,
        description=ticket.description,
        suggestion=ticket.suggestion,
        contact_phone=ticket.contact_phone if full_phone else _mask_phone(ticket.contact_phone),
        reporter=ticket.reporter,
        item_no=ticket.item_no,
        business_line=ticket.business_line,
        business_line_label=BUSINESS_LINES.get(ticket.business_line, ""),
        state=state,
        state_label=STATE_LABELS[state],
        holder=_holder(ticket, desks),
        assigned_on=ticket.assigned_on,
        answer_due=ticket.answer_due,
        answer_due_estimated=ticket.answer_due_estimated,
        answer=answer,
        overdue=late.any,
        answer_overdue=late.answer,
        feedback_overdue=late.feedback,
        created_at=ticket.created_at,
        closed_at=ticket.closed_at,
        resolution=ticket.resolution,
        duplicate=duplicate,
        events=[
            EventOut(
                at=e.at,
                action=e.action,
                actor=e.actor,
                from_level=e.from_level,
                to_level=e.to_level,
                text=e.text,
                feedback_deadline=e.feedback_deadline,
            )
            for e in events
        ],
    )


def _views(session: Session, tickets, today: dt.date, *, full_phone: bool) -> list:
    events = ledger.events_of(session, [t.id for t in tickets])
    desks = ledger.responders(session)
    return [_view(t, events[t.id], desks, today, full_phone=full_phone) for t in tickets]


def _one(session: Session, ticket: LedgerTicket, request: Request, **kwargs) -> LedgerTicketOut:
    events = ledger.events_of(session, [ticket.id])[ticket.id]
    return _view(ticket, events, ledger.responders(session), local_today(request), **kwargs)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _kiosk_caller(request: Request, session: Session) -> str:
    caller = calling_kiosk_id(request)
    if session.get(Responder, caller) is not None:
        raise ApiError(403, "forbidden", "责任人账号不能以服务点身份提交或查看工单")
    return caller


# --- kiosk endpoints -----------------------------------------------------------------------


@router.post(
    "/tickets",
    response_model=LedgerTicketOut,
    summary="提交设备故障或问题反映",
    responses=KIOSK_ONLY,
    openapi_extra=OUTBOX,
)
def open_ticket(
    body: LedgerTicketCreate,
    request: Request,
    session: Annotated[Session, Depends(db_session)],
) -> Response:
    caller = _kiosk_caller(request, session)
    new = ledger.NewTicket(
        client_ref=body.client_ref,
        kind=body.kind,
        category=body.category,
        reporter=body.reporter,
        fault_key=body.fault_key,
        problem_code=body.problem_code,
        description=body.description,
        suggestion=body.suggestion,
        contact_phone=body.contact_phone or "",
        occurred_at=body.occurred_at,
        item_no=body.item_no,
    )
    ticket, created = ledger.open_ticket(
        session,
        caller,
        new,
        now=_now(),
        today=local_today(request),
        commit=False,
        answer_days=answer_days(request),
    )
    view = _one(session, ticket, request, full_phone=False, duplicate=not created)
    return commit_with_answer(session, request, view)


@router.post(
    "/tickets/close",
    response_model=LedgerTicketOut,
    summary="服务点关闭本机工单（设备恢复）",
    responses=KIOSK_ONLY,
    openapi_extra=OUTBOX,
    description="Finds the ticket by client_ref, else the open ticket of fault_key. Closing a "
    "closed ticket returns it unchanged.",
)
def close_own_ticket(
    body: LedgerTicketClose,
    request: Request,
    session: Annotated[Session, Depends(db_session)],
) -> LedgerTicketOut:
    caller = _kiosk_caller(request, session)
    ticket = ledger.close_from_kiosk(
        session, caller, body.client_ref, body.fault_key, body.resolution, now=_now()
    )
    return _one(session, ticket, request, full_phone=False)


@router.get(
    "/tickets",
    response_model=LedgerTicketList,
    summary="本机工单及答复（含超期标记）",
    responses=KIOSK_ONLY,
)
def list_own_tickets(
    request: Request,
    session: Annotated[Session, Depends(db_session)],
    state: StateFilter = "all",
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> LedgerTicketList:
    caller = _kiosk_caller(request, session)
    today = local_today(request)
    tickets = ledger.kiosk_tickets(session, caller, state, limit)
    views = _views(session, tickets, today, full_phone=False)
    return LedgerTicketList(items=views, today=today, local_rules=local_rules(request))


# --- responder desks -------------------------------------------------------------------------


@router.get(
    "/desk/tickets", response_model=LedgerTicketList, summary="本级待办工单", responses=DESK_ONLY
)
def desk_tickets(
    request: Request,
    session: Annotated[Session, Depends(db_session)],
    state: StateFilter = "open",
    overdue_only: bool = False,
) -> LedgerTicketList:
    responder = ledger.responder_of(session, calling_kiosk_id(request))
    today = local_today(request)
    views = _views(session, ledger.desk_tickets(session, responder, state), today, full_phone=True)
    if overdue_only:
        views = [v for v in views if v.overdue]
    return LedgerTicketList(items=views, today=today, local_rules=local_rules(request))


@router.post(
    "/desk/tickets/{ticket_id}/answer",
    response_model=LedgerTicketOut,
    summary="答复（处理结果 + 反馈时限）",
    responses={**DESK_ONLY, 409: {"description": "工单已关闭"}},
)
def answer(
    ticket_id: TicketId,
    body: AnswerIn,
    request: Request,
    session: Annotated[Session, Depends(db_session)],
) -> LedgerTicketOut:
    responder = ledger.responder_of(session, calling_kiosk_id(request))
    ticket = ledger.answer_ticket(
        session,
        responder,
        ticket_id,
        body.result,
        body.feedback_deadline,
        now=_now(),
        today=local_today(request),
    )
    return _one(session, ticket, request, full_phone=True)


@router.post(
    "/desk/tickets/{ticket_id}/escalate",
    response_model=LedgerTicketOut,
    summary="上报上一级（县→市→省）",
    responses={**DESK_ONLY, 409: {"description": "省工作专班已是最高一级，或工单已关闭"}},
)
def escalate(
    ticket_id: TicketId,
    body: EscalateIn,
    request: Request,
    session: Annotated[Session, Depends(db_session)],
) -> LedgerTicketOut:
    responder = ledger.responder_of(session, calling_kiosk_id(request))
    ticket = ledger.escalate_ticket(
        session,
        responder,
        ticket_id,
        body.reason,
        now=_now(),
        today=local_today(request),
        answer_days=answer_days(request),
    )
    return _one(session, ticket, request, full_phone=True)


@router.post(
    "/desk/tickets/{ticket_id}/close",
    response_model=LedgerTicketOut,
    summary="办结",
    responses=DESK_ONLY,
)
def close(
    ticket_id: TicketId,
    body: CloseIn,
    request: Request,
    session: Annotated[Session, Depends(db_session)],
) -> LedgerTicketOut:
    responder = ledger.responder_of(session, calling_kiosk_id(request))
    ticket = ledger.close_by_responder(session, responder, ticket_id, body.resolution, now=_now())
    return _one(session, ticket, request, full_phone=True)


@router.get(
    "/responsibility", response_model=ResponsibilityList, summary="责任清单", responses=DESK_ONLY
)
def responsibility(
    request: Request, session: Annotated[Session, Depends(db_session)]
) -> ResponsibilityList:
    """Who holds each open ticket of the caller's region, and each desk's load."""
    responder = ledger.responder_of(session, calling_kiosk_id(request))
    today = local_today(request)
    desks = ledger.responders(session)
    items: list[ResponsibilityItem] = []
    load: dict[str, list[int]] = {a: [0, 0] for a in desks}
    for ticket in ledger.region_open_tickets(session, responder):
        state = TicketState(ticket.state)
        late = overdue(state, ticket.answer_due, ticket.feedback_deadline, today).any
        if ticket.assignee in load:
            load[ticket.assignee][0] += 1
            load[ticket.assignee][1] += int(late)
        items.append(
            ResponsibilityItem(
                ticket_id=ticket.id,
                number=ticket.number or "",
                kiosk_id=ticket.kiosk_id,
                service_point=ticket.service_point,
                category_label=CATEGORY_LABELS[ProblemCategory(ticket.category)],
                summary=ticket.description[:60],
                state_label=STATE_LABELS[state],
                holder=_holder(ticket, desks),
                answer_due=ticket.answer_due,
                feedback_deadline=ticket.feedback_deadline,
                overdue=late,
            )
        )
    listed = [
        ResponderOut(
            account=d.account,
            name=d.name,
            role=d.role,
            level=Level(d.level),
            level_label=LEVEL_LABELS[Level(d.level)],
            region_prefix=d.region_prefix,
            business_line=d.business_line,
            business_line_label=BUSINESS_LINES.get(d.business_line, ""),
            open_tickets=load[d.account][0],
            overdue_tickets=load[d.account][1],
        )
        for d in sorted(
            desks.values(), key=lambda d: (list(Level).index(Level(d.level)), d.account)
        )
        if d.enabled
        and (
            d.region_prefix.startswith(responder.region_prefix)
            or responder.region_prefix.startswith(d.region_prefix)
        )
    ]
    return ResponsibilityList(
        today=today, responders=listed, items=items, local_rules=local_rules(request)
    )
