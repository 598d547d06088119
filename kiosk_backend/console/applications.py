"""办件受理: the counter's queue of pre-applications (the 18 counter items) and the kiosk's
applications 10/11/22/23 of the region — filters, a detail page with every answer the resident
gave, and the moves 受理 → 审核中 → 办结 / 不予受理 with a reason the resident reads in 我的办件.

Lists show residents masked; the detail page shows the full values and writes an audit entry.
No personal value ever travels in a URL: finding a resident's applications by ID number is a
POST. Moves go through :func:`kiosk_backend.progression.move_application` (the same rules as the
county desk's API), with the console account as the actor; only county-level accounts move.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from kiosk.domain.roles import Permission
from kiosk_backend import audit_trail, catalogue, progression
from kiosk_backend.console import scope
from kiosk_backend.console.auth import CheckedForm, Forbidden, User, Viewer, now_utc
from kiosk_backend.console.web import render
from kiosk_backend.deps import local_today
from kiosk_backend.errors import ApiError, not_found
from kiosk_backend.filing import STATUS_LABELS, agent_of
from kiosk_backend.identity import InvalidIdNumber, normalize_id_number
from kiosk_backend.ledger_models import Responder
from kiosk_backend.models import Application, Kiosk, Person
from kiosk_backend.schemas import RELATION_LABELS
from kiosk_backend.staff.rules import level_of
from kiosk_backend.ticket_routing import Level

router = APIRouter()

PAGE_SIZE = 50
MAX_PAGE = 2000
OPEN_STATUSES = ("waiting_counter", "submitted", "in_review")
STATUS_FILTERS = ("waiting_counter", "submitted", "in_review", "completed", "rejected")
TARGET_LABELS = {
    "submitted": "受理",
    "in_review": "转入审核",
    "completed": "办结",
    "rejected": "不予受理",
}
DETAIL_LABELS = {
    "employment_type": "就业类型",
    "started_on": "开始日期",
    "lost_job_on": "失业日期",
    "separation_reason": "失业原因",
    "last_employer": "原工作单位",
    "certificate_kind": "证书类别",
    "certificate_no": "证书编号",
    "certificate_level": "证书等级",
    "occupation": "职业（工种）",
    "issued_on": "发证日期",
    "industry": "行业",
    "note": "补充说明",
    "phone": "联系电话",
}
VALUE_LABELS = {
    "self_employed": "个体经营",
    "part_time": "非全日制",
    "new_forms": "新就业形态",
    "other": "其他",
    "involuntary": "非本人意愿中断就业",
    "voluntary": "本人意愿",
    "never_employed": "从未就业",
    "vocational_qualification": "职业资格证书",
    "skill_level": "职业技能等级证书",
}
Number = Annotated[str, Path(min_length=4, max_length=32, pattern=r"^[A-Z]{2}[0-9A-Z]{2,30}$")]


def queue_items() -> list[tuple[int, str]]:
    """The items that can be in the queue: counter-only items and 10/11/22/23."""
    items = catalogue.platform_catalogue().items
    return [(i.no, i.name) for i in items if not i.kiosk_runs or i.no in scope.QUEUE_ITEMS]


def _filtered(
    user: Viewer, today: dt.date, item: int | None, status: str, overdue: bool, kiosk: str
):
    query = scope.queue_applications(user.region_code)
    if item:
        query = query.where(Application.item_no == item)
    if status:
        query = query.where(Application.status == status)
    if overdue:
        query = query.where(Application.status.in_(OPEN_STATUSES), Application.due_date < today)
    if kiosk:
        query = query.where(Application.kiosk_id == kiosk)
    return query


def _rows(user: Viewer, query, offset: int, limit: int):
    ordered = (
        query.add_columns(Person.name, Person.id_number)
        .join(Person, Person.id == Application.person_id)
        .order_by(Application.submitted_at, Application.id)
        .offset(offset)
        .limit(limit)
    )
    return user.db.execute(ordered).all()


NO_FILTERS = {"item": None, "status": "", "overdue": 0, "kiosk": ""}


def _list_page(
    request: Request,
    user: Viewer,
    rows,
    *,
    total: int,
    page: int = 1,
    pages: int = 1,
    filters: dict = NO_FILTERS,
    kiosks=(),
    **extra,
):
    return render(
        request,
        "applications.html",
        user,
        active="applications",
        title="办件受理",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        items=queue_items(),
        kiosks=kiosks,
        status_labels=STATUS_LABELS,
        status_filters=STATUS_FILTERS,
        today=local_today(request),
        open_statuses=OPEN_STATUSES,
        item_name=lambda no: catalogue.item(no).name,
        **extra,
    )


@router.get("/applications")
def application_list(
    request: Request,
    user: User,
    item: Annotated[int | None, Query(ge=1, le=40)] = None,
    status: Annotated[str, Query(max_length=20)] = "",
    overdue: Annotated[int, Query(ge=0, le=1)] = 0,
    kiosk: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$")] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
):
    user.require(Permission.HANDLE_APPLICATIONS)
    status = status if status in STATUS_FILTERS else ""
    query = _filtered(user, local_today(request), item, status, bool(overdue), kiosk)
    total, more = scope.bounded_count(user.db, query)
    return _list_page(
        request,
        user,
        _rows(user, query, (page - 1) * PAGE_SIZE, PAGE_SIZE),
        total=total,
        page=page,
        pages=max(1, min(MAX_PAGE, (total + PAGE_SIZE - 1) // PAGE_SIZE)),
        filters={"item": item, "status": status, "overdue": overdue, "kiosk": kiosk},
        more=more,
        kiosks=user.db.scalars(scope.kiosks(user.region_code).order_by(Kiosk.id)).all(),
    )


@router.post("/applications/find")
def find_by_id_number(request: Request, form: CheckedForm, user: User):
    """A resident at the counter: their applications in this region, by ID number (POST, so the
    number is in no URL, history or log)."""
    user.require(Permission.HANDLE_APPLICATIONS)
    try:
        number = normalize_id_number(str(form.get("id_number", "")))
    except InvalidIdNumber as exc:
        return _list_page(
            request, user, [], total=0, error=f"身份证号码有误：{exc}", status_code=422
        )
    query = scope.queue_applications(user.region_code).where(
        Application.person_id.in_(select(Person.id).where(Person.id_number == number))
    )
    rows = _rows(user, query, 0, 200)
    return _list_page(request, user, rows, total=len(rows), found=True)


def _application(user: Viewer, number: str) -> Application:
    application = user.db.scalar(
        scope.queue_applications(user.region_code).where(Application.number == number)
    )
    if application is None:
        raise not_found("本辖区没有这个办件")
    return application


def _detail_rows(details: dict) -> list[tuple[str, str]]:
    rows = []
    for key, value in (details or {}).items():
        text = VALUE_LABELS.get(value, value) if isinstance(value, str) else value
        if isinstance(value, bool):
            text = "是" if value else "否"
        rows.append((DETAIL_LABELS.get(key, key), str(text)))
    return rows


def _detail(request: Request, user: Viewer, application: Application, **extra):
    person = user.db.get(Person, application.person_id)
    kiosk = user.db.get(Kiosk, application.kiosk_id)
    audit_trail.record(
        user.db,
        actor=user.account,
        action="application.view_personal",
        target_kind="application",
        target=application.number,
        region_code=kiosk.region_code if kiosk else "",
    )
    user.db.commit()
    item = catalogue.item(application.item_no)
    allowed = sorted(
        progression.TRANSITIONS.get(application.status, ()), key=list(TARGET_LABELS).index
    )
    return render(
        request,
        "application.html",
        user,
        active="applications",
        title=f"办件 {application.number}",
        a=application,
        item=item,
        person=person,
        kiosk=kiosk,
        agent=agent_of(application),
        agent_full=(application.agent_name, application.agent_id_number),
        relation=RELATION_LABELS.get(application.agent_relation, application.agent_relation),
        details=_detail_rows(application.details),
        events=progression.events_of(user.db, application),
        status_labels=STATUS_LABELS,
        allowed=allowed,
        target_labels=TARGET_LABELS,
        may_move=level_of(user.region_code) == "county",
        today=local_today(request),
        **extra,
    )


@router.get("/applications/{number}")
def application_detail(request: Request, number: Number, user: User, moved: str = ""):
    user.require(Permission.HANDLE_APPLICATIONS)
    application = _application(user, number)
    flash = f"已{TARGET_LABELS[moved]}" if moved in TARGET_LABELS else ""
    return _detail(request, user, application, flash=flash)


def _as_desk(user: Viewer) -> Responder:
    """The console user acting as their county's desk (transient: never added to the session)."""
    if level_of(user.region_code) != "county":
        raise Forbidden("办件由县人社部门受理和审核（您的账号不是县级账号）")
    return Responder(
        account=user.account,
        name=user.operator.name,
        role=user.operator.title,
        level=Level.COUNTY.value,
        region_prefix=user.region_code,
        enabled=True,
    )


@router.post("/applications/{number}/status")
def move(
    request: Request,
    number: Number,
    form: CheckedForm,
    user: User,
):
    user.require(Permission.HANDLE_APPLICATIONS)
    application = _application(user, number)
    target = str(form.get("target", ""))
    reason = str(form.get("reason", "")).strip()[:300]
    before = {"status": application.status, "due_date": str(application.due_date or "")}
    try:
        moved = progression.move_application(
            user.db, _as_desk(user), number, target, reason, now=now_utc()
        )
    except ApiError as exc:
        user.db.rollback()
        return _detail(request, user, _application(user, number), error=exc.message)
    kiosk = user.db.get(Kiosk, moved.kiosk_id)
    audit_trail.record(
        user.db,
        actor=user.account,
        action="application.move",
        target_kind="application",
        target=moved.number,
        region_code=kiosk.region_code if kiosk else "",
        before=before,
        after={"status": moved.status, "due_date": str(moved.due_date or "")},
        note=reason,
    )
    user.db.commit()
    return RedirectResponse(f"/console/applications/{moved.number}?moved={target}", status_code=303)
