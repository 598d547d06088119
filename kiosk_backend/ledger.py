"""The 问题台账 workflow of 附件5 on the server: open, route, answer, escalate, close.

Every operation works in a caller's SQLAlchemy session and commits it; times are passed in
(``now`` aware UTC, ``today`` the county's local date) so tests can fix them. Rules:

- A new ticket is recorded (``submitted``) and routed at once to its first level
  (:func:`kiosk_backend.ticket_routing.first_level`): state ``assigned``, holder = the enabled
  responder desk of that level whose region prefix covers the kiosk's region (longest prefix
  wins), answer due in that level's working days.
- One open ticket per (kiosk, fault_key) and per (kiosk, client_ref): a repeated open returns
  the existing ticket (``created`` False) — enforced by unique constraints, so even two
  concurrent requests cannot create a duplicate.
- Responders act only on tickets their level holds within their region. ``answer`` needs a
  result and a 反馈时限 not in the past; ``escalate`` moves the ticket to the next level
  (county → city → province; the province cannot escalate) with a fresh answer deadline;
  ``close`` ends it. A kiosk closes its own tickets (a device that recovered).
- Every step adds a :class:`LedgerEvent`; nothing is logged with personal data (phones and
  descriptions stay in the database).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.domain.problems import ProblemCategory, common_problem, fault_label
from kiosk.domain.workdays import WorkingCalendar
from kiosk_backend import catalogue
from kiosk_backend.db import make_engine, make_session_factory, migrate
from kiosk_backend.errors import ApiError
from kiosk_backend.ledger_models import LedgerEvent, LedgerTicket, Responder
from kiosk_backend.models import PRINCIPAL_DESK, Kiosk
from kiosk_backend.provision import upsert_kiosk
from kiosk_backend.server_keys import ServerKeys, load_server_keys
from kiosk_backend.ticket_routing import (
    LEVEL_LABELS,
    OPEN_STATES,
    CannotEscalate,
    Level,
    TicketState,
    TransitionRefused,
    answer_due,
    check_can_answer,
    check_can_escalate,
    first_level,
)

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"
SECURITY_FAULT_PREFIX = "security."
MAX_FEEDBACK_DAYS = 366


@dataclass(frozen=True)
class NewTicket:
    """What a kiosk submits (already validated by the API schema)."""

    client_ref: str
    kind: str  # device_fault / problem_report
    category: str
    reporter: str  # kiosk / resident / operator
    fault_key: str = ""
    problem_code: str = ""
    description: str = ""
    suggestion: str = ""
    contact_phone: str = ""
    occurred_at: dt.datetime | None = None
    item_no: int | None = None  # the item a 问题反映 is about: its business line picks the desk


# --- opening and routing ---------------------------------------------------------------------


def open_ticket(
    session: Session,
    kiosk_id: str,
    new: NewTicket,
    *,
    now: dt.datetime,
    today: dt.date,
    calendar: WorkingCalendar | None = None,
    commit: bool = True,
    answer_days: Mapping[Level, int] | None = None,
) -> tuple[LedgerTicket, bool]:
    """Record and route a ticket; return ``(ticket, created)``. A repeat (same client_ref, or a
    device fault already open for this kiosk) returns the existing ticket unchanged.

    ``commit=False`` leaves the commit to the caller (the HTTP route commits the ticket together
    with its idempotent answer, :func:`kiosk_backend.answers.commit_with_answer`)."""
    existing = _existing_open(session, kiosk_id, new)
    if existing is not None:
        return existing, False
    description = _description(new)
    kiosk = session.get(Kiosk, kiosk_id)
    ticket = LedgerTicket(
        kiosk_id=kiosk_id,
        client_ref=new.client_ref,
        service_point=kiosk.service_point if kiosk else "",
        region_code=kiosk.region_code if kiosk else "",
        kind=new.kind,
        category=new.category,
        fault_key=new.fault_key,
        open_fault_key=new.fault_key or None,
        problem_code=new.problem_code,
        description=description,
        suggestion=new.suggestion,
        contact_phone=new.contact_phone,
        reporter=new.reporter,
        occurred_at=new.occurred_at,
        item_no=new.item_no,
        business_line=catalogue.item(new.item_no).business_line if new.item_no else "",
        state=TicketState.SUBMITTED.value,
        level=first_level(new.category).value,
        assigned_on=today,
        answer_due=today,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    try:
        session.flush()
    except IntegrityError:
        # Another request opened the same fault (or sent the same client_ref) meanwhile.
        session.rollback()
        existing = _existing_open(session, kiosk_id, new)
        if existing is None:
            raise
        return existing, False
    ticket.number = f"WT{today:%Y%m%d}{ticket.id:06d}"
    _event(session, ticket, "submitted", kiosk_id, now, text=new.reporter)
    _assign(
        session, ticket, Level(ticket.level), today, now, calendar, from_level="", days=answer_days
    )
    if commit:
        session.commit()
    else:
        session.flush()
    log.info(
        "ledger ticket opened",
        extra={"event": "ledger_open", "category": ticket.category, "level": ticket.level},
    )
    return ticket, True


def _description(new: NewTicket) -> str:
    if new.kind == "device_fault":
        label = fault_label(new.fault_key)
        # the kiosk sends the device's machine code (e.g. paper_end) for the technician
        return f"{label}（{new.description}）" if new.description else label
    if new.problem_code:
        try:
            problem = common_problem(new.problem_code)
        except KeyError:
            raise ApiError(422, "invalid_field", "常见问题代码不存在", "problem_code") from None
        if problem.category is not ProblemCategory(new.category):
            raise ApiError(422, "invalid_field", "所选问题不属于该问题类别", "problem_code")
        if not new.description:
            return problem.text
    if not new.description:
        raise ApiError(422, "invalid_field", "问题描述不能为空", "description")
    return new.description


def _existing_open(session: Session, kiosk_id: str, new: NewTicket) -> LedgerTicket | None:
    same_ref = session.scalar(
        select(LedgerTicket).where(
            LedgerTicket.kiosk_id == kiosk_id, LedgerTicket.client_ref == new.client_ref
        )
    )
    if same_ref is not None:
        return same_ref
    if new.fault_key:
        return session.scalar(
            select(LedgerTicket).where(
                LedgerTicket.kiosk_id == kiosk_id, LedgerTicket.open_fault_key == new.fault_key
            )
        )
    return None


def _assign(
    session: Session,
    ticket: LedgerTicket,
    level: Level,
    today: dt.date,
    now: dt.datetime,
    calendar: WorkingCalendar | None,
    *,
    from_level: str,
    reason: str = "",
    actor: str = SYSTEM_ACTOR,
    days: Mapping[Level, int] | None = None,
) -> None:
    holder = pick_responder(session, level, ticket.region_code, ticket.business_line)
    due = answer_due(level, today, calendar, days)
    ticket.level = level.value
    ticket.assignee = holder.account if holder else ""
    ticket.assigned_on = today
    ticket.answer_due = due.date
    ticket.answer_due_estimated = due.estimated
    ticket.state = (TicketState.ESCALATED if from_level else TicketState.ASSIGNED).value
    ticket.updated_at = now
    action = "escalated" if from_level else "assigned"
    text = reason or f"按附件5规则分派至{LEVEL_LABELS[level]}"
    _event(session, ticket, action, actor, now, from_level=from_level, to_level=level, text=text)


def pick_responder(
    session: Session, level: Level, region_code: str, business_line: str = ""
) -> Responder | None:
    """The enabled desk of *level* whose region prefix covers *region_code* most specifically;
    among those, the one designated for *business_line* (附件5 指定业务骨干), else one for every
    line, else any (see kiosk_backend.ticket_routing)."""
    desks = session.scalars(
        select(Responder).where(Responder.level == level.value, Responder.enabled.is_(True))
    ).all()
    covering = [d for d in desks if region_code.startswith(d.region_prefix)]
    if not covering:
        return None

    def fit(desk: Responder) -> int:
        if business_line and desk.business_line == business_line:
            return 0
        return 1 if not desk.business_line else 2

    return sorted(covering, key=lambda d: (-len(d.region_prefix), fit(d), d.account))[0]


# --- the kiosk closing its own tickets ---------------------------------------------------------


def close_from_kiosk(
    session: Session,
    kiosk_id: str,
    client_ref: str,
    fault_key: str,
    resolution: str,
    *,
    now: dt.datetime,
) -> LedgerTicket:
    """Close a kiosk's ticket found by client_ref, else its open ticket for *fault_key*, else
    the latest one of that fault (already closed: returned as is). 404 if there is none."""
    ticket = session.scalar(
        select(LedgerTicket).where(
            LedgerTicket.kiosk_id == kiosk_id, LedgerTicket.client_ref == client_ref
        )
    )
    if ticket is None and fault_key:
        ticket = session.scalar(
            select(LedgerTicket).where(
                LedgerTicket.kiosk_id == kiosk_id, LedgerTicket.open_fault_key == fault_key
            )
        ) or session.scalar(
            select(LedgerTicket)
            .where(LedgerTicket.kiosk_id == kiosk_id, LedgerTicket.fault_key == fault_key)
            .order_by(LedgerTicket.id.desc())
            .limit(1)
        )
    if ticket is None:
        raise ApiError(404, "not_found", "没有这个工单")
    if ticket.fault_key.startswith(SECURITY_FAULT_PREFIX):
        # An alarm about the kiosk itself: only the desk that looked into it may close it.
        raise ApiError(403, "forbidden", "安全告警工单只能由县人社部门关闭")
    if ticket.state != TicketState.CLOSED.value:
        _close(session, ticket, kiosk_id, resolution or "设备已恢复，自动关闭", now)
        session.commit()
    return ticket


# --- responder desks -------------------------------------------------------------------------


def responder_of(session: Session, account: str) -> Responder:
    """The calling desk; 403 for a kiosk or a disabled desk."""
    responder = session.get(Responder, account)
    if responder is None or not responder.enabled:
        raise ApiError(403, "forbidden", "仅县、市、省级责任人可以办理工单")
    return responder


def held_ticket(session: Session, responder: Responder, ticket_id: int) -> LedgerTicket:
    """A ticket the responder's level holds in its region (404 outside its region, 403 when
    another level holds it)."""
    ticket = session.get(LedgerTicket, ticket_id)
    if ticket is None or not ticket.region_code.startswith(responder.region_prefix):
        raise ApiError(404, "not_found", "没有这个工单")
    if ticket.level != responder.level:
        holder = LEVEL_LABELS[Level(ticket.level)]
        raise ApiError(403, "not_holder", f"该工单目前由{holder}办理")
    return ticket


def answer_ticket(
    session: Session,
    responder: Responder,
    ticket_id: int,
    result: str,
    feedback_deadline: dt.date,
    *,
    now: dt.datetime,
    today: dt.date,
) -> LedgerTicket:
    """Give (or revise) the answer: result text and the 反馈时限 by which it will be done."""
    ticket = held_ticket(session, responder, ticket_id)
    _refusing(check_can_answer, TicketState(ticket.state))
    if feedback_deadline < today:
        raise ApiError(422, "invalid_field", "反馈时限不能早于今天", "feedback_deadline")
    if feedback_deadline > today + dt.timedelta(days=MAX_FEEDBACK_DAYS):
        raise ApiError(422, "invalid_field", "反馈时限不能超过一年", "feedback_deadline")
    ticket.state = TicketState.ANSWERED.value
    ticket.answer_result = result
    ticket.answered_by = responder.account
    ticket.answered_at = now
    ticket.feedback_deadline = feedback_deadline
    ticket.updated_at = now
    _event(
        session,
        ticket,
        "answered",
        responder.account,
        now,
        text=result,
        feedback_deadline=feedback_deadline,
    )
    session.commit()
    return ticket


def escalate_ticket(
    session: Session,
    responder: Responder,
    ticket_id: int,
    reason: str,
    *,
    now: dt.datetime,
    today: dt.date,
    calendar: WorkingCalendar | None = None,
    answer_days: Mapping[Level, int] | None = None,
) -> LedgerTicket:
    """Hand the ticket to the next level (409 ``cannot_escalate`` at the province)."""
    ticket = held_ticket(session, responder, ticket_id)
    try:
        target = check_can_escalate(TicketState(ticket.state), Level(ticket.level))
    except CannotEscalate as exc:
        raise ApiError(409, "cannot_escalate", str(exc)) from None
    except TransitionRefused as exc:
        raise ApiError(409, "invalid_state", str(exc)) from None
    # The lower level's answer did not solve it: the new holder owes a fresh one.
    ticket.answer_result = ""
    ticket.answered_by = ""
    ticket.answered_at = None
    ticket.feedback_deadline = None
    _assign(
        session,
        ticket,
        target,
        today,
        now,
        calendar,
        from_level=ticket.level,
        reason=reason,
        actor=responder.account,
        days=answer_days,
    )
    session.commit()
    return ticket


def close_by_responder(
    session: Session, responder: Responder, ticket_id: int, resolution: str, *, now: dt.datetime
) -> LedgerTicket:
    ticket = held_ticket(session, responder, ticket_id)
    if ticket.state != TicketState.CLOSED.value:
        _close(session, ticket, responder.account, resolution, now)
        session.commit()
    return ticket


def _refusing(check, *args) -> None:
    try:
        check(*args)
    except TransitionRefused as exc:
        raise ApiError(409, "invalid_state", str(exc)) from None


def _close(
    session: Session, ticket: LedgerTicket, actor: str, resolution: str, now: dt.datetime
) -> None:
    ticket.state = TicketState.CLOSED.value
    ticket.open_fault_key = None
    ticket.closed_at = now
    ticket.closed_by = actor
    ticket.resolution = resolution
    ticket.updated_at = now
    _event(session, ticket, "closed", actor, now, text=resolution)


def _event(
    session: Session,
    ticket: LedgerTicket,
    action: str,
    actor: str,
    now: dt.datetime,
    *,
    from_level: str = "",
    to_level: str = "",
    text: str = "",
    feedback_deadline: dt.date | None = None,
) -> None:
    session.add(
        LedgerEvent(
            ticket_id=ticket.id,
            at=now,
            action=action,
            actor=actor,
            from_level=str(from_level),
            to_level=str(to_level),
            text=text,
            feedback_deadline=feedback_deadline,
        )
    )


# --- reading ----------------------------------------------------------------------------------

STATE_FILTERS = ("open", "closed", "all")


def _state_filter(query, state: str):
    if state == "open":
        return query.where(LedgerTicket.state.in_([s.value for s in OPEN_STATES]))
    if state == "closed":
        return query.where(LedgerTicket.state == TicketState.CLOSED.value)
    return query


def kiosk_tickets(session: Session, kiosk_id: str, state: str = "all", limit: int = 200):
    """A kiosk's tickets, newest first."""
    query = select(LedgerTicket).where(LedgerTicket.kiosk_id == kiosk_id)
    query = _state_filter(query, state).order_by(LedgerTicket.id.desc()).limit(limit)
    return session.scalars(query).all()


def desk_tickets(session: Session, responder: Responder, state: str = "open", limit: int = 500):
    """Tickets the responder's level holds in its region, oldest answer deadline first."""
    query = select(LedgerTicket).where(
        LedgerTicket.level == responder.level,
        LedgerTicket.region_code.startswith(responder.region_prefix, autoescape=True),
    )
    query = _state_filter(query, state).order_by(LedgerTicket.answer_due, LedgerTicket.id)
    return session.scalars(query.limit(limit)).all()


def region_open_tickets(session: Session, responder: Responder, limit: int = 1000):
    """Every open ticket of the responder's region, whatever level holds it (责任清单)."""
    query = select(LedgerTicket).where(
        LedgerTicket.region_code.startswith(responder.region_prefix, autoescape=True)
    )
    query = _state_filter(query, "open").order_by(LedgerTicket.level, LedgerTicket.answer_due)
    return session.scalars(query.limit(limit)).all()


def events_of(session: Session, ticket_ids: list[int]) -> dict[int, list[LedgerEvent]]:
    if not ticket_ids:
        return {}
    rows = session.scalars(
        select(LedgerEvent)
        .where(LedgerEvent.ticket_id.in_(ticket_ids))
        .order_by(LedgerEvent.ticket_id, LedgerEvent.id)
    ).all()
    grouped: dict[int, list[LedgerEvent]] = {i: [] for i in ticket_ids}
    for row in rows:
        grouped[row.ticket_id].append(row)
    return grouped


def responders(session: Session) -> dict[str, Responder]:
    return {r.account: r for r in session.scalars(select(Responder)).all()}


# --- provisioning responder desks ------------------------------------------------------------


def upsert_responder(
    session: Session,
    account: str,
    *,
    name: str,
    role: str,
    level: Level | str,
    region_prefix: str,
    secret_hex: str,
    keys: ServerKeys,
    business_line: str = "",
) -> Responder:
    """Create or update a responder desk and its signing credentials (caller commits).

    *business_line*: the line this desk's 指定业务骨干 answers (``kiosk.domain.catalogue``
    BUSINESS_LINES: employment / social_insurance / card), "" for every line.

    The desk signs requests exactly like a kiosk (X-Kiosk-Id = *account*), so it is also stored
    in ``kiosks`` with *secret_hex* (sealed with *keys*) and kind ``desk`` (kiosk endpoints
    refuse it). Raises ProvisionError / ValueError for bad values (also for an id that is a
    kiosk).
    """
    level = Level(level)
    if not region_prefix.isdigit() and region_prefix:
        raise ValueError("region prefix must be digits (e.g. 140431, 1404, 14) or empty")
    upsert_kiosk(
        session,
        account,
        secret_hex,
        f"{LEVEL_LABELS[level]} {role}".strip(),
        PRINCIPAL_DESK,
        keys=keys,
    )
    responder = session.get(Responder, account)
    if responder is None:
        responder = Responder(account=account)
        session.add(responder)
    responder.name = name
    responder.role = role
    responder.level = level.value
    responder.region_prefix = region_prefix
    responder.business_line = business_line
    responder.enabled = True
    return responder


def add_responder(
    db_url: str,
    account: str,
    *,
    name: str,
    role: str,
    level: Level | str,
    region_prefix: str,
    secret_hex: str,
    key_file: str | os.PathLike[str] | None = None,
    business_line: str = "",
) -> None:
    """Provision a responder desk in the database at *db_url* (migrating it first); *key_file*
    names the server key ring as for :func:`kiosk_backend.server_keys.load_server_keys`."""
    keys = load_server_keys(db_url, key_file)
    engine = make_engine(db_url)
    try:
        migrate(engine, keys)
        with make_session_factory(engine)() as session:
            upsert_responder(
                session,
                account,
                name=name,
                role=role,
                level=level,
                region_prefix=region_prefix,
                secret_hex=secret_hex,
                keys=keys,
                business_line=business_line,
            )
            session.commit()
    finally:
        engine.dispose()
