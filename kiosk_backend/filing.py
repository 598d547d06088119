"""Filing applications (我的办件): numbers, due dates in working days, queue numbers, receipts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from kiosk.domain.deadlines import deadline_of
from kiosk.domain.identity import mask_id_number, mask_name
from kiosk.domain.workdays import due_date
from kiosk_backend import catalogue, rules
from kiosk_backend.check_codes import check_code_for
from kiosk_backend.errors import ApiError
from kiosk_backend.models import Application, Kiosk, Person, QueueCounter
from kiosk_backend.people import facts_of
from kiosk_backend.schemas import RELATION_LABELS, Agent, AgentOut, Receipt

# Statuses: submitted 已受理 → in_review 审核中 → completed 已办结 / rejected 不予受理
# (see kiosk_backend.progression); waiting_counter for work orders; approved kept for old rows.
STATUS_LABELS = {
    "submitted": "已受理",
    "in_review": "审核中",
    "approved": "已通过",
    "rejected": "不予受理",
    "completed": "已办结",
    "waiting_counter": "待柜面办理",
    "cancelled": "已撤销",
}


def enforce_rules(session: Session, person: Person, item_no: int, today: dt.date) -> None:
    """Refuse (422 ``not_eligible``) when the person misses a condition of the item."""
    conditions = rules.check(item_no, facts_of(session, person), today)
    message = rules.missing_message(conditions)
    if message:
        raise ApiError(422, "not_eligible", message)


def file_application(
    session: Session,
    *,
    person: Person,
    item_no: int,
    kind: str,
    details: dict[str, Any],
    kiosk: Kiosk | None,
    today: dt.date,
    status: str = "submitted",
    queue: bool = False,
    result: str = "",
    agent: Agent | None = None,
) -> Application:
    """Create an application with its number and due date (caller commits).

    *agent*: the 代办人 recorded beside the resident (422 ``invalid_field`` on
    ``agent.id_number`` when it is the resident themself).
    """
    if agent is not None and agent.id_number == person.id_number:
        raise ApiError(
            422, "invalid_field", "代办人不能是本人，本人办理无需填写代办人", "agent.id_number"
        )
    item = catalogue.item(item_no)
    # A pre-application's clock starts when the counter accepts it (kiosk_backend.progression).
    counted = item.time_limit_days and status != "waiting_counter"
    due = due_date(today, item.time_limit_days) if counted else None
    application = Application(
        number=f"TMP{uuid.uuid4().hex[:24]}",
        person_id=person.id,
        item_no=item_no,
        kind=kind,
        status=status,
        details=details,
        kiosk_id=kiosk.id if kiosk else "",
        service_point=kiosk.service_point if kiosk else "",
        submitted_at=dt.datetime.now(dt.UTC),
        due_date=due.date if due else today if status == "completed" else None,
        due_estimated=due.estimated if due else False,
        result=result,
        agent_id_number=agent.id_number if agent else "",
        agent_name=agent.name if agent else "",
        agent_relation=(agent.relation or "") if agent else "",
    )
    session.add(application)
    session.flush()
    application.number = f"BJ{today:%Y%m%d}{application.id:06d}"
    if queue:
        application.queue_no = next_queue_number(
            session,
            application.service_point or "未知服务点",
            today,
            catalogue.QUEUE_LETTERS.get(item.category, "A"),
        )
    return application


def next_queue_number(session: Session, service_point: str, day: dt.date, letter: str) -> str:
    """The next queue number of a service point for a local day, like ``A012``.

    One counter per service point and day (letters only tell the counter which desk); the row
    update is atomic on both SQLite and PostgreSQL.
    """
    for _attempt in range(3):
        result = session.execute(
            update(QueueCounter)
            .where(QueueCounter.service_point == service_point, QueueCounter.day == day)
            .values(last_number=QueueCounter.last_number + 1)
        )
        if result.rowcount:
            number = session.scalar(
                select(QueueCounter.last_number).where(
                    QueueCounter.service_point == service_point, QueueCounter.day == day
                )
            )
            return f"{letter}{number:03d}"
        try:
            with session.begin_nested():
                session.add(QueueCounter(service_point=service_point, day=day, last_number=0))
        except IntegrityError:
            continue
    raise ApiError(503, "queue_busy", "取号繁忙，请稍后再试")


def agent_of(application: Application) -> AgentOut | None:
    """The application's 代办人, masked (None when the resident came in person)."""
    if not application.agent_id_number:
        return None
    relation = application.agent_relation or None
    return AgentOut(
        name_masked=mask_name(application.agent_name),
        id_number_masked=mask_id_number(application.agent_id_number),
        relation=relation,
        relation_label=RELATION_LABELS.get(relation or "", ""),
    )


def due_basis(application: Application) -> str:
    """Where the application's 办结时限 counts from (see :mod:`kiosk.domain.deadlines`)."""
    if application.status in ("rejected", "cancelled"):
        return "none"
    if application.kind == "work_order":
        return "accepted" if application.accepted_on else "on_acceptance"
    return "immediate" if catalogue.item(application.item_no).is_instant else "filed"


def deadline_fields(application: Application) -> dict[str, Any]:
    """The 办结时限 fields of receipts and 我的办件 answers."""
    note = ""
    if application.due_date and application.due_estimated:
        note = "办结期限按周末推算（节假日安排尚未公布），以经办机构通知为准"
    return {
        "due_date": application.due_date,
        "due_estimated": application.due_estimated,
        "due_note": note,
        "due_basis": due_basis(application),
        "time_limit_days": catalogue.item(application.item_no).time_limit_days,
        "accepted_on": application.accepted_on,
    }


def deadline_label(application: Application) -> str:
    """The 办结时限 as a resident reads it ("" when there is none to promise)."""
    fields = deadline_fields(application)
    answer = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()}
    deadline = deadline_of({**answer, "status": application.status})
    return deadline.label_zh() if deadline is not None else ""


def receipt_of(application: Application, message: str = "") -> Receipt:
    item = catalogue.item(application.item_no)
    session = object_session(application)
    return Receipt(
        number=application.number,
        item_no=item.no,
        item_name=item.name,
        status=application.status,
        status_label=STATUS_LABELS.get(application.status, "已受理"),
        submitted_at=application.submitted_at,
        queue_no=application.queue_no,
        message=message or application.result,
        agent=agent_of(application),
        check_code=check_code_for(session, application.number) if session is not None else "",
        **deadline_fields(application),
    )
