"""Back-office progression of applications (我的办件 shows it): who may move what, and where.

States (``applications.status``)::

    waiting_counter ──受理──▶ submitted ──开始审核──▶ in_review ──办结──▶ completed
          │                     │                        │
          └──────────不予受理（须说明理由）──────────────┴────────────▶ rejected

``completed``, ``rejected``, ``cancelled`` (and the legacy ``approved``) are final. Pure rules;
:func:`move_application` applies them in a session, records an :class:`ApplicationEvent`, and
on completion updates the person's record (:func:`apply_completion`). When the counter accepts
a pre-application (``waiting_counter`` → ``submitted``) its 办结时限 starts: ``accepted_on`` is
the county's local day and the due date is counted from it (:func:`start_the_clock`).
Only county desks (县人社部门, which run the counters and review the kiosk's applications) move
applications, and only those filed at kiosks of their region.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.domain.workdays import due_date
from kiosk_backend import catalogue
from kiosk_backend.errors import ApiError
from kiosk_backend.filing import STATUS_LABELS
from kiosk_backend.ledger_models import Responder
from kiosk_backend.models import Application, ApplicationEvent, Kiosk, Person
from kiosk_backend.ticket_routing import Level

# status → the statuses it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    "waiting_counter": frozenset({"submitted", "rejected"}),
    "submitted": frozenset({"in_review", "rejected"}),
    "in_review": frozenset({"completed", "rejected"}),
}
TARGETS = ("submitted", "in_review", "completed", "rejected")
REASON_REQUIRED = frozenset({"rejected"})
DEFAULT_RESULTS = {
    "submitted": "已受理，正在办理",
    "in_review": "正在审核",
    "completed": "已办结",
}


class TransitionRefused(ValueError):
    """The application cannot move from its status to the asked one (message in Chinese)."""


class ReasonRequired(TransitionRefused):
    """The move is allowed but needs a reason the resident will read (不予受理)."""


def apply_completion(session: Session, application: Application) -> None:
    """What an application changes in the person's record once it is 已办结: a completed
    失业登记 (11) makes the person registered unemployed, a completed 失业保险金申领 (23) makes
    them a benefit receiver (so the rules see it, e.g. item 23 after item 11)."""
    person = session.get(Person, application.person_id)
    if person is None:
        return
    if application.item_no == 11:
        person.registered_unemployed = True
    elif application.item_no == 23:
        person.receiving_ui_benefit = True


COUNTY_ZONE = ZoneInfo("Asia/Shanghai")  # ServerSettings.timezone's default


def start_the_clock(application: Application, accepted_on: dt.date) -> None:
    """The counter accepted the pre-application on *accepted_on* (the county's local day):
    its due date counts from that day (即时办结 items: that day itself)."""
    days = catalogue.item(application.item_no).time_limit_days
    due = due_date(accepted_on, days)
    application.accepted_on = accepted_on
    application.due_date = due.date
    application.due_estimated = due.estimated


def check_transition(current: str, target: str, reason: str) -> None:
    """Raise :class:`TransitionRefused` unless *current* → *target* is allowed with *reason*."""
    allowed = TRANSITIONS.get(current, frozenset())
    if target not in allowed:
        now_label = STATUS_LABELS.get(current, current)
        to_label = STATUS_LABELS.get(target, target)
        if not allowed:
            raise TransitionRefused(f"办件已{now_label}，不能再变更")
        raise TransitionRefused(f"办件当前为“{now_label}”，不能直接变为“{to_label}”")
    if target in REASON_REQUIRED and not reason.strip():
        raise ReasonRequired("不予受理须说明理由")


def require_county_desk(session: Session, account: str) -> Responder:
    """The calling desk if it is an enabled county desk (403 otherwise)."""
    desk = session.get(Responder, account)
    if desk is None or not desk.enabled:
        raise ApiError(403, "forbidden", "仅县、市、省级责任人可以办理")
    if desk.level != Level.COUNTY.value:
        raise ApiError(403, "forbidden", "办件由县人社部门受理和审核")
    return desk


def _kiosks_of_region(session: Session, desk: Responder):
    return select(Kiosk.id).where(Kiosk.region_code.startswith(desk.region_prefix, autoescape=True))


def region_applications(
    session: Session, desk: Responder, status: str | None, limit: int = 200
) -> list[Application]:
    """Applications filed at the desk's region's kiosks, oldest first (work queue order)."""
    query = select(Application).where(Application.kiosk_id.in_(_kiosks_of_region(session, desk)))
    if status:
        query = query.where(Application.status == status)
    query = query.order_by(Application.submitted_at, Application.id).limit(limit)
    return list(session.scalars(query).all())


def application_in_region(session: Session, desk: Responder, number: str) -> Application:
    """The application *number* if it was filed in the desk's region (404 otherwise)."""
    application = session.scalar(
        select(Application).where(
            Application.number == number,
            Application.kiosk_id.in_(_kiosks_of_region(session, desk)),
        )
    )
    if application is None:
        raise ApiError(404, "not_found", "本辖区没有这个办件")
    return application


def move_application(
    session: Session,
    desk: Responder,
    number: str,
    target: str,
    reason: str,
    *,
    now: dt.datetime,
    zone: ZoneInfo = COUNTY_ZONE,
) -> Application:
    """Move application *number* to *target* (409 ``invalid_transition`` if not allowed);
    record who did it and why (caller commits). The reason becomes the result the resident
    sees in 我的办件. *now* is an aware instant; *zone* the county's, for the acceptance day."""
    application = application_in_region(session, desk, number)
    current = application.status
    try:
        check_transition(current, target, reason)
    except ReasonRequired as exc:
        raise ApiError(422, "invalid_field", str(exc), "reason") from None
    except TransitionRefused as exc:
        raise ApiError(409, "invalid_transition", str(exc), "status") from None
    text = reason.strip()
    if target == "completed":
        apply_completion(session, application)
    if current == "waiting_counter" and target == "submitted":
        start_the_clock(application, now.astimezone(zone).date())
    application.status = target
    application.result = (text or DEFAULT_RESULTS[target])[:300]
    application.updated_at = now
    session.add(
        ApplicationEvent(
            application_id=application.id,
            at=now,
            actor=desk.account,
            from_status=current,
            to_status=target,
            text=text[:300],
        )
    )
    session.flush()
    return application


def events_of(session: Session, application: Application) -> list[ApplicationEvent]:
    return list(
        session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == application.id)
            .order_by(ApplicationEvent.id)
        ).all()
    )
