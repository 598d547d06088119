"""Eligibility, applications with status and due date (10, 11, 22, 23), 我的办件, work orders."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.domain.local_rules import certificate_in_time
from kiosk.domain.validation import CODE_PATTERN
from kiosk_backend import catalogue, rules
from kiosk_backend.errors import ApiError
from kiosk_backend.filing import (
    STATUS_LABELS,
    agent_of,
    deadline_fields,
    enforce_rules,
    receipt_of,
)
from kiosk_backend.identity_sessions import PERSON_SCOPED
from kiosk_backend.item_answers import ANSWERS_KEY, check_counter_answers
from kiosk_backend.models import Application, Person
from kiosk_backend.people import facts_of, person_for_registration, require_person
from kiosk_backend.routing import OUTBOX, READ_ONLY, DbSession, Filing, Today
from kiosk_backend.schemas import (
    AgentField,
    AgentOut,
    DueBasis,
    IdNumber,
    Phone,
    Receipt,
    Strict,
)

# Every route here reads or files for the person in the body.
router = APIRouter(tags=["applications"], dependencies=PERSON_SCOPED)

ItemNo = Annotated[int, Field(ge=1, le=40, description="附件2 事项序号")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=30, strip_whitespace=True)]
Note = Annotated[str, StringConstraints(max_length=300)]


class EligibilityQuery(Strict):
    id_number: IdNumber
    item_no: ItemNo


class ConditionOut(BaseModel):
    key: str
    label: str
    met: bool
    detail: str


class Eligibility(BaseModel):
    item_no: int
    item_name: str
    eligible: bool
    conditions: list[ConditionOut]
    message: str


class FlexibleEmployment(Strict):
    """Item 10 灵活就业登记."""

    id_number: IdNumber
    name: Name | None = None
    phone: Phone
    employment_type: Literal["self_employed", "part_time", "new_forms", "other"] = Field(
        description="个体经营 / 非全日制 / 新就业形态 / 其他"
    )
    started_on: dt.date
    industry: Annotated[str, StringConstraints(max_length=40, strip_whitespace=True)] = Field(
        "", description="所属行业"
    )
    description: Note = ""
    agent: AgentField = None


class UnemploymentRegistration(Strict):
    """Item 11 失业登记."""

    id_number: IdNumber
    name: Name | None = None
    phone: Phone
    lost_job_on: dt.date
    separation_reason: Literal["involuntary", "voluntary", "never_employed"]
    last_employer: Annotated[str, StringConstraints(max_length=100)] = ""
    seeking_work: bool = True
    agent: AgentField = None


class SkillSubsidy(Strict):
    """Item 22 技能提升补贴申领."""

    id_number: IdNumber
    phone: Phone
    certificate_kind: Literal["vocational_qualification", "skill_level"]
    certificate_no: Annotated[
        str, StringConstraints(min_length=4, max_length=40, pattern=CODE_PATTERN)
    ] = Field(description="证书编号：字母、数字和“-”（如 S000014043100223）")
    certificate_level: Literal["1", "2", "3", "4", "5"] = Field(description="1 高级技师 … 5 初级工")
    occupation: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    issued_on: dt.date
    agent: AgentField = None


class UnemploymentBenefit(Strict):
    """Item 23 失业保险金申领."""

    id_number: IdNumber
    phone: Phone
    seeking_work: bool = Field(description="本人有求职要求")
    agent: AgentField = None


class PersonQueryBody(Strict):
    id_number: IdNumber


class MyApplication(BaseModel):
    number: str
    item_no: int
    item_name: str
    status: str
    status_label: str
    submitted_at: dt.datetime
    due_date: dt.date | None
    due_estimated: bool
    queue_no: str | None
    service_point: str
    result: str
    agent: AgentOut | None = Field(None, description="代办人（脱敏）；本人办理时为空")
    updated_at: dt.datetime | None = Field(None, description="最近一次状态变更时间")
    due_note: str = ""
    due_basis: DueBasis = "filed"
    time_limit_days: int = Field(0, description="附件2 办结时限的工作日数；0 为即时办结")
    accepted_on: dt.date | None = Field(None, description="柜台受理日（预约柜台办理）")


class MyApplications(BaseModel):
    items: list[MyApplication]


AnswerValue = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class WorkOrder(Strict):
    """A pre-application for one of the 18 counter-only items (柜面 only)."""

    id_number: IdNumber
    name: Name | None = None
    item_no: ItemNo
    phone: Phone
    note: Note = ""
    answers: dict[AnswerValue, AnswerValue | list[AnswerValue]] = Field(
        default_factory=dict,
        max_length=10,
        description="该事项自己的选择（如31暂停/恢复、40挂失/解挂），按事项定义校验",
    )
    agent: AgentField = None


def _eligibility(item_no: int, conditions: list[rules.Condition]) -> Eligibility:
    item = catalogue.item(item_no)
    eligible = all(c.met for c in conditions)
    return Eligibility(
        item_no=item_no,
        item_name=item.name,
        eligible=eligible,
        conditions=[
            ConditionOut(key=c.key, label=c.label, met=c.met, detail=c.detail) for c in conditions
        ],
        message="符合办理条件" if eligible else rules.missing_message(conditions),
    )


@router.post(
    "/eligibility",
    response_model=Eligibility,
    summary="办理条件预检（逐条满足/缺少）",
    openapi_extra=READ_ONLY,
)
def eligibility(body: EligibilityQuery, session: DbSession, today: Today) -> Eligibility:
    person = require_person(session, body.id_number)
    return _eligibility(body.item_no, rules.check(body.item_no, facts_of(session, person), today))


def _not_future(day: dt.date, today: dt.date, field: str, label: str) -> None:
    if day > today:
        raise ApiError(422, "invalid_field", f"{label}不能晚于今天", field)
    if day.year < 1950:
        raise ApiError(422, "invalid_field", f"{label}不正确", field)


OPEN_STATUSES = ("waiting_counter", "submitted", "in_review")


def open_application(session: Session, person: Person, item_no: int) -> Application | None:
    """The person's application of the item still waiting, accepted or in review (newest)."""
    return session.scalar(
        select(Application)
        .where(
            Application.person_id == person.id,
            Application.item_no == item_no,
            Application.status.in_(OPEN_STATUSES),
        )
        .order_by(Application.id.desc())
        .limit(1)
    )


def _has_open_application(session: Session, person: Person, item_no: int) -> bool:
    return open_application(session, person, item_no) is not None


def _subsidy_claimed_for(session: Session, person: Person, certificate_no: str) -> bool:
    """Whether a skill subsidy (22) claim for the certificate is filed and not refused (a
    refused claim may be made again once its reason is put right)."""
    return any(
        a.details.get("certificate_no") == certificate_no
        for a in session.scalars(
            select(Application).where(
                Application.person_id == person.id,
                Application.item_no == 22,
                Application.status != "rejected",
            )
        )
    )


@router.post(
    "/applications/flexible-employment",
    response_model=Receipt,
    summary="灵活就业登记（10）",
    openapi_extra=OUTBOX,
)
def flexible_employment(body: FlexibleEmployment, filing: Filing) -> Response:
    _not_future(body.started_on, filing.today, "started_on", "开始灵活就业日期")
    person = person_for_registration(filing.session, body.id_number, body.name)
    enforce_rules(filing.session, person, 10, filing.today)
    if _has_open_application(filing.session, person, 10):
        raise ApiError(
            409, "already_submitted", "您的灵活就业登记正在办理中，请在“我的办件”查看进度"
        )
    application = filing.file(
        person,
        body.agent,
        item_no=10,
        kind="flexible_employment",
        details={
            "phone": body.phone,
            "employment_type": body.employment_type,
            "started_on": str(body.started_on),
            "industry": body.industry,
            "description": body.description,
        },
    )
    person.phone = body.phone
    return filing.answer(receipt_of(application))


@router.post(
    "/applications/unemployment-registration",
    response_model=Receipt,
    summary="失业登记（11）",
    openapi_extra=OUTBOX,
)
def unemployment_registration(body: UnemploymentRegistration, filing: Filing) -> Response:
    _not_future(body.lost_job_on, filing.today, "lost_job_on", "失业日期")
    person = person_for_registration(filing.session, body.id_number, body.name)
    enforce_rules(filing.session, person, 11, filing.today)
    if person.registered_unemployed:
        raise ApiError(409, "already_registered", "您已办理失业登记，无需重复登记")
    if _has_open_application(filing.session, person, 11):
        raise ApiError(409, "already_submitted", "您的失业登记正在办理中，请在“我的办件”查看进度")
    application = filing.file(
        person,
        body.agent,
        item_no=11,
        kind="unemployment_registration",
        details={
            "phone": body.phone,
            "lost_job_on": str(body.lost_job_on),
            "separation_reason": body.separation_reason,
            "last_employer": body.last_employer,
            "seeking_work": body.seeking_work,
        },
    )
    person.phone = body.phone
    person.employment_status = "unemployed"
    person.separation_reason = (
        body.separation_reason if body.separation_reason != "never_employed" else ""
    )
    person.seeking_work = body.seeking_work
    return filing.answer(receipt_of(application))


@router.post(
    "/applications/skill-subsidy",
    response_model=Receipt,
    summary="技能提升补贴申领（22）",
    openapi_extra=OUTBOX,
)
def skill_subsidy(body: SkillSubsidy, filing: Filing) -> Response:
    _not_future(body.issued_on, filing.today, "issued_on", "发证日期")
    if not certificate_in_time(body.issued_on, filing.today):  # kiosk.domain.local_rules
        raise ApiError(422, "not_eligible", "证书须在发证之日起12个月内申领", "issued_on")
    person = require_person(filing.session, body.id_number)
    enforce_rules(filing.session, person, 22, filing.today)
    if _subsidy_claimed_for(filing.session, person, body.certificate_no):
        raise ApiError(409, "already_submitted", "该证书已申领过技能提升补贴", "certificate_no")
    application = filing.file(
        person,
        body.agent,
        item_no=22,
        kind="skill_subsidy",
        details={
            "phone": body.phone,
            "certificate_kind": body.certificate_kind,
            "certificate_no": body.certificate_no,
            "certificate_level": body.certificate_level,
            "occupation": body.occupation,
            "issued_on": str(body.issued_on),
        },
    )
    return filing.answer(receipt_of(application))


@router.post(
    "/applications/unemployment-benefit",
    response_model=Receipt,
    summary="失业保险金申领（23）",
    openapi_extra=OUTBOX,
)
def unemployment_benefit(body: UnemploymentBenefit, filing: Filing) -> Response:
    person = require_person(filing.session, body.id_number)
    if not body.seeking_work:
        raise ApiError(422, "not_eligible", "不符合办理条件：有求职要求", "seeking_work")
    enforce_rules(filing.session, person, 23, filing.today)
    if _has_open_application(filing.session, person, 23):
        raise ApiError(
            409, "already_submitted", "您的失业保险金申领正在办理中，请在“我的办件”查看进度"
        )
    application = filing.file(
        person,
        body.agent,
        item_no=23,
        kind="unemployment_benefit",
        details={"phone": body.phone, "seeking_work": body.seeking_work},
    )
    person.phone = body.phone
    return filing.answer(receipt_of(application))


def _my_application(a: Application) -> MyApplication:
    return MyApplication(
        number=a.number,
        item_no=a.item_no,
        item_name=catalogue.item(a.item_no).name,
        status=a.status,
        status_label=STATUS_LABELS.get(a.status, a.status),
        submitted_at=a.submitted_at,
        queue_no=a.queue_no,
        service_point=a.service_point,
        result=a.result,
        agent=agent_of(a),
        updated_at=a.updated_at,
        **deadline_fields(a),
    )


@router.post(
    "/applications/mine",
    response_model=MyApplications,
    summary="我的办件",
    openapi_extra=READ_ONLY,
)
def my_applications(body: PersonQueryBody, session: DbSession) -> MyApplications:
    person = require_person(session, body.id_number)
    rows = session.scalars(
        select(Application)
        .where(Application.person_id == person.id)
        .order_by(Application.submitted_at.desc(), Application.id.desc())
        .limit(100)
    ).all()
    return MyApplications(items=[_my_application(a) for a in rows])


@router.post(
    "/work-orders",
    response_model=Receipt,
    summary="柜面事项预申请（取号）",
    openapi_extra=OUTBOX,
)
def work_order(body: WorkOrder, filing: Filing) -> Response:
    if not catalogue.is_counter_only(body.item_no):
        raise ApiError(422, "not_counter_item", "该事项可在自助机直接办理，无需预申请", "item_no")
    answers = check_counter_answers(body.item_no, body.answers)
    person = person_for_registration(filing.session, body.id_number, body.name)
    enforce_rules(filing.session, person, body.item_no, filing.today)
    materials = catalogue.materials_label(catalogue.item(body.item_no))
    booked = open_application(filing.session, person, body.item_no)
    if booked is not None:  # one booking per item at a time: say so, show the one there is
        county_tz = ZoneInfo(filing.request.app.state.settings.timezone)
        return filing.answer(_already_booked(booked, materials, county_tz))
    details = {"phone": body.phone, "note": body.note}
    if answers:
        details[ANSWERS_KEY] = answers
    application = filing.file(
        person,
        body.agent,
        item_no=body.item_no,
        kind="work_order",
        details=details,
        status="waiting_counter",
        queue=True,
        result=f"请携带{materials}到柜面办理",
    )
    person.phone = body.phone  # the counter calls the resident back on it (console detail page)
    return filing.answer(receipt_of(application, f"已预约，请携带{materials}到柜面，凭号办理"))


def _already_booked(booked: Application, materials: str, county_tz: ZoneInfo) -> Receipt:
    """The receipt of the booking that is still open, marked ``duplicate``."""
    day = booked.submitted_at.astimezone(county_tz).date()
    when = f"{day.year}年{day.month}月{day.day}日"
    queue = f"排队号 {booked.queue_no}，" if booked.queue_no else ""
    message = (
        f"您已于{when}预约过该事项（{queue}办件编号 {booked.number}），无需重复预约。"
        f"请携带{materials}到柜台办理"
    )
    receipt = receipt_of(booked, message)
    return receipt.model_copy(update={"duplicate": True})
