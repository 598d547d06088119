"""问题台账 for the responder desks (附件5): the tickets the user's level holds in their region
(or every ticket of the region), overdue flags, a detail page to answer (result + 反馈时限),
escalate (county → city → province) or close, and the 责任清单.

A console account acts for the level of its region code (2 digits: 省工作专班, 4: 市人社部门,
6+: 县人社部门) through :mod:`kiosk_backend.ledger` — the same rules as the desks' API — with
the account as the actor of every event. The reporter's phone is masked except on the detail
page, whose viewing is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from starlette.datastructures import FormData

from kiosk.domain.problems import CATEGORY_LABELS, ProblemCategory
from kiosk.domain.roles import Permission
from kiosk_backend import audit_trail, ledger
from kiosk_backend.console import scope
from kiosk_backend.console.auth import CheckedForm, User, Viewer, now_utc
from kiosk_backend.console.web import render
from kiosk_backend.deps import local_today
from kiosk_backend.errors import ApiError, not_found
from kiosk_backend.ledger_models import LedgerTicket, Responder
from kiosk_backend.staff.rules import level_of
from kiosk_backend.ticket_routing import (
    AWAITING_ANSWER,
    LEVEL_LABELS,
    OPEN_STATES,
    STATE_LABELS,
    Level,
    TicketState,
    overdue,
)

router = APIRouter()

PAGE_SIZE = 50
RESPONSIBILITY_ROWS = 200
ACTION_LABELS = {
    "submitted": "提交",
    "assigned": "分派",
    "escalated": "上报",
    "answered": "答复",
    "closed": "关闭",
}
DONE = {"answer": "已答复", "escalate": "已上报上一级", "close": "已办结关闭"}
TicketId = Annotated[int, Path(ge=1, le=2_000_000_000)]


def desk_level(user: Viewer) -> str:
    return level_of(user.region_code)


def _as_desk(user: Viewer) -> Responder:
    """The console user acting for their level's desk (transient: never added to the session)."""
    return Responder(
        account=user.account,
        name=user.operator.name,
        role=user.operator.title,
        level=desk_level(user),
        region_prefix=user.region_code,
        enabled=True,
    )


def category_label(category: str) -> str:
    try:
        return CATEGORY_LABELS[ProblemCategory(category)]
    except ValueError:
        return category


def late(ticket: LedgerTicket, today: dt.date):
    return overdue(TicketState(ticket.state), ticket.answer_due, ticket.feedback_deadline, today)


@router.get("/tickets")
def ticket_list(
    request: Request,
    user: User,
    held: Annotated[str, Query(pattern="^(mine|all)$")] = "mine",
    state: Annotated[str, Query(pattern="^(open|closed|all)$")] = "open",
    overdue_only: Annotated[int, Query(alias="overdue", ge=0, le=1)] = 0,
    category: Annotated[str, Query(max_length=20)] = "",
    kiosk: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$")] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
):
    user.require(Permission.ANSWER_TICKETS)
    today = local_today(request)
    query = scope.tickets(user.region_code)
    if held == "mine":
        query = query.where(LedgerTicket.level == desk_level(user))
    if state == "open":
        query = query.where(LedgerTicket.state.in_([s.value for s in OPEN_STATES]))
    elif state == "closed":
        query = query.where(LedgerTicket.state == TicketState.CLOSED.value)
    if overdue_only:
        query = query.where(
            (
                LedgerTicket.state.in_([s.value for s in AWAITING_ANSWER])
                & (LedgerTicket.answer_due < today)
            )
            | (
                (LedgerTicket.state == TicketState.ANSWERED.value)
                & (LedgerTicket.feedback_deadline < today)
            )
        )
    if category in {c.value for c in ProblemCategory}:
        query = query.where(LedgerTicket.category == category)
    if kiosk:
        query = query.where(LedgerTicket.kiosk_id == kiosk)
    total, more = scope.bounded_count(user.db, query)
    rows = user.db.scalars(
        query.order_by(LedgerTicket.answer_due, LedgerTicket.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return render(
        request,
        "tickets.html",
        user,
        active="tickets",
        title="问题台账",
        rows=[(t, late(t, today)) for t in rows],
        total=total,
        more=more,
        page=page,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        filters={
            "held": held,
            "state": state,
            "overdue": overdue_only,
            "category": category,
            "kiosk": kiosk,
        },
        level_label=LEVEL_LABELS[Level(desk_level(user))],
        categories=[(c.value, CATEGORY_LABELS[c]) for c in ProblemCategory],
        state_labels={s.value: label for s, label in STATE_LABELS.items()},
        level_labels={lv.value: label for lv, label in LEVEL_LABELS.items()},
        category_label=category_label,
    )


def _ticket(user: Viewer, ticket_id: int) -> LedgerTicket:
    ticket = user.db.scalar(scope.tickets(user.region_code).where(LedgerTicket.id == ticket_id))
    if ticket is None:
        raise not_found("本辖区没有这个工单")
    return ticket


def _detail(request: Request, user: Viewer, ticket: LedgerTicket, **extra):
    if ticket.contact_phone:
        audit_trail.record(
            user.db,
            actor=user.account,
            action="ticket.view_personal",
            target_kind="ticket",
            target=ticket.number or str(ticket.id),
            region_code=ticket.region_code,
        )
        user.db.commit()
    today = local_today(request)
    desks = ledger.responders(user.db)
    holder = desks.get(ticket.assignee)
    state = TicketState(ticket.state)
    return render(
        request,
        "ticket.html",
        user,
        active="tickets",
        title=f"工单 {ticket.number}",
        t=ticket,
        flags=late(ticket, today),
        holder=holder,
        events=ledger.events_of(user.db, [ticket.id])[ticket.id],
        holds=ticket.level == desk_level(user),
        is_open=state in OPEN_STATES,
        can_escalate=state in OPEN_STATES and ticket.level != Level.PROVINCE.value,
        state_label=STATE_LABELS[state],
        level_label=LEVEL_LABELS[Level(ticket.level)],
        level_labels={lv.value: label for lv, label in LEVEL_LABELS.items()},
        action_labels=ACTION_LABELS,
        category=category_label(ticket.category),
        today=today,
        default_deadline=today + dt.timedelta(days=7),
        **extra,
    )


def _overdue_condition(today: dt.date):
    """SQL form of :func:`kiosk_backend.ticket_routing.overdue` (either flag)."""
    return (
        LedgerTicket.state.in_([s.value for s in AWAITING_ANSWER])
        & (LedgerTicket.answer_due < today)
    ) | (
        (LedgerTicket.state == TicketState.ANSWERED.value)
        & (LedgerTicket.feedback_deadline < today)
    )


@router.get("/tickets/responsibility")
def responsibility(request: Request, user: User):
    """责任清单: each desk's load (counted in SQL over every open ticket of the region) and the
    open tickets, the most urgent first (the first :data:`RESPONSIBILITY_ROWS`)."""
    user.require(Permission.ANSWER_TICKETS)
    today = local_today(request)
    desks = ledger.responders(user.db)
    open_tickets = scope.tickets(user.region_code).where(
        LedgerTicket.state.in_([s.value for s in OPEN_STATES])
    )
    load: dict[str, list[int]] = {}
    late_now = _overdue_condition(today)
    for assignee, late_flag, count in user.db.execute(
        select(LedgerTicket.assignee, late_now, func.count())
        .where(open_tickets.whereclause)
        .group_by(LedgerTicket.assignee, late_now)
    ):
        counts = load.setdefault(assignee, [0, 0])
        counts[0] += count
        counts[1] += count if late_flag else 0
    total = sum(c[0] for c in load.values())
    tickets = user.db.scalars(
        open_tickets.order_by(LedgerTicket.answer_due, LedgerTicket.level, LedgerTicket.id).limit(
            RESPONSIBILITY_ROWS
        )
    ).all()
    listed = [
        d
        for d in sorted(
            desks.values(), key=lambda d: (list(Level).index(Level(d.level)), d.account)
        )
        if d.enabled
        and user.region_code
        and (
            d.region_prefix.startswith(user.region_code)
            or user.region_code.startswith(d.region_prefix)
        )
    ]
    return render(
        request,
        "responsibility.html",
        user,
        active="responsibility",
        title="责任清单",
        desks=listed,
        load=load,
        total=total,
        rows=[(t, late(t, today)) for t in tickets],
        desk_map=desks,
        level_labels={lv.value: label for lv, label in LEVEL_LABELS.items()},
        state_labels={s.value: label for s, label in STATE_LABELS.items()},
        category_label=category_label,
        today=today,
    )


@router.get("/tickets/{ticket_id}")
def ticket_detail(request: Request, ticket_id: TicketId, user: User, done: str = ""):
    user.require(Permission.ANSWER_TICKETS)
    return _detail(request, user, _ticket(user, ticket_id), flash=DONE.get(done, ""))


def _act(request: Request, user: Viewer, ticket_id: int, action: str, form: FormData):
    user.require(Permission.ANSWER_TICKETS)
    ticket = _ticket(user, ticket_id)
    before = {"state": ticket.state, "level": ticket.level}
    now, today = now_utc(), local_today(request)
    desk = _as_desk(user)
    text = str(form.get("text", "")).strip()[:2000]
    entry = audit_trail.record(
        user.db,
        actor=user.account,
        action=f"ticket.{action}",
        target_kind="ticket",
        target=ticket.number or str(ticket.id),
        region_code=ticket.region_code,
        before=before,
        note=text,
        at=now,
    )
    try:
        if not text:
            raise ApiError(422, "invalid_field", "请填写内容")
        if action == "answer":
            try:
                deadline = dt.date.fromisoformat(str(form.get("feedback_deadline", "")))
            except ValueError:
                raise ApiError(422, "invalid_field", "请填写反馈时限（日期）") from None
            ledger.answer_ticket(user.db, desk, ticket_id, text, deadline, now=now, today=today)
        elif action == "escalate":
            ledger.escalate_ticket(user.db, desk, ticket_id, text, now=now, today=today)
        else:
            ledger.close_by_responder(user.db, desk, ticket_id, text, now=now)
    except ApiError as exc:
        user.db.rollback()
        return _detail(request, user, _ticket(user, ticket_id), error=exc.message)
    refreshed = _ticket(user, ticket_id)
    entry.after = {"state": refreshed.state, "level": refreshed.level}
    user.db.add(entry)
    user.db.commit()
    return RedirectResponse(f"/console/tickets/{ticket_id}?done={action}", status_code=303)


@router.post("/tickets/{ticket_id}/answer")
def answer(
    request: Request,
    ticket_id: TicketId,
    form: CheckedForm,
    user: User,
):
    return _act(request, user, ticket_id, "answer", form)


@router.post("/tickets/{ticket_id}/escalate")
def escalate(
    request: Request,
    ticket_id: TicketId,
    form: CheckedForm,
    user: User,
):
    return _act(request, user, ticket_id, "escalate", form)


@router.post("/tickets/{ticket_id}/close")
def close(
    request: Request,
    ticket_id: TicketId,
    form: CheckedForm,
    user: User,
):
    return _act(request, user, ticket_id, "close", form)
