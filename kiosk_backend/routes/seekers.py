"""Job seekers (items 1, 4), odd-job demands (7), matching with reasons (2, 5, 8), search (9).

Items 8 and 9 need the resident identified (附件2: 需本人携带身份证或社保卡): the person travels
in the POST body like every person lookup. Item 8 lists the employer's own open demands and
matches any one of them (never another person's); item 9 shows seekers with masked contacts.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

import kiosk_backend.search  # noqa: F401  (its hooks index the postings this module adds)
from kiosk_backend.errors import ApiError
from kiosk_backend.filing import enforce_rules, receipt_of
from kiosk_backend.identity import mask_name, mask_phone
from kiosk_backend.identity_sessions import PERSON_SCOPED
from kiosk_backend.matching import match_postings, match_seekers
from kiosk_backend.models import JobPosting, JobSeeker, OddJobDemand, Person
from kiosk_backend.people import person_for_registration, require_person
from kiosk_backend.routes.jobs import Posting, posting_out
from kiosk_backend.routing import OUTBOX, READ_ONLY, DbSession, Filing, Today
from kiosk_backend.rules import age_on
from kiosk_backend.schemas import (
    AgentField,
    IdNumber,
    Occupation,
    Page,
    PersonQuery,
    Phone,
    Receipt,
    ShortText,
    Strict,
)
from kiosk_backend.seed.places import TOWNS

router = APIRouter(tags=["job seekers"])

Town = Annotated[str, StringConstraints(min_length=2, max_length=20, strip_whitespace=True)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=30, strip_whitespace=True)]


def _check_town(town: str, field: str) -> None:
    if town not in TOWNS:
        raise ApiError(422, "invalid_field", f"乡镇“{town}”不在沁源县乡镇名单中", field)


class SeekerRegistration(Strict):
    id_number: IdNumber
    name: Name | None = Field(None, description="读卡得到的姓名；人员库中没有此人时用于新建")
    kind: Literal["fixed", "odd"] = Field(description="fixed: 事项1 固定工; odd: 事项4 零工")
    phone: Phone
    occupations: list[Occupation] = Field(min_length=1, max_length=5)
    towns: list[Town] = Field(default_factory=list, max_length=12, description="空 = 不限")
    salary_min: int | None = Field(None, ge=0, le=1_000_000)
    salary_max: int | None = Field(None, ge=0, le=1_000_000)
    skills: Annotated[str, StringConstraints(max_length=200)] = ""
    available_from: dt.date | None = None
    agent: AgentField = None

    @model_validator(mode="after")
    def _salary_order(self):
        low, high = self.salary_min, self.salary_max
        if low is not None and high is not None and low > high:
            raise ValueError("期望最低薪资不能高于最高薪资")
        return self


class SeekerReceipt(BaseModel):
    seeker_id: int
    receipt: Receipt


class SeekerQuery(Strict):
    id_number: IdNumber
    kind: Literal["fixed", "odd"]


class PostingMatch(BaseModel):
    posting: Posting
    score: int
    reasons: list[str]


class PostingMatches(BaseModel):
    kind: Literal["fixed", "odd"]
    occupations: list[str]
    matches: list[PostingMatch]


class DemandRegistration(Strict):
    id_number: IdNumber
    name: Name | None = None
    employer_name: ShortText = Field(description="用工单位或个人名称")
    occupation: Occupation
    town: Town
    village: Annotated[str, StringConstraints(max_length=40, strip_whitespace=True)] = ""
    workers_needed: int = Field(ge=1, le=500)
    pay_per_day: int = Field(ge=1, le=10_000, description="元/天")
    work_date: dt.date
    days: int = Field(1, ge=1, le=365)
    description: Annotated[str, StringConstraints(max_length=300)] = ""
    contact_phone: Phone
    agent: AgentField = None


class DemandReceipt(BaseModel):
    demand_id: int
    posting_id: int
    receipt: Receipt


class SeekerPublic(BaseModel):
    """An odd-job seeker as others may see them: masked name and phone, no ID number."""

    seeker_id: int
    name_masked: str
    gender: Literal["male", "female"]
    age: int
    occupations: list[str]
    towns: list[str]
    skills: str
    phone_masked: str
    available_from: dt.date | None
    registered_on: dt.date


class SeekerMatch(BaseModel):
    seeker: SeekerPublic
    score: int
    reasons: list[str]


class SeekerMatches(BaseModel):
    demand_id: int
    matches: list[SeekerMatch]


class SeekerPage(Page):
    items: list[SeekerPublic]


class DemandOut(BaseModel):
    """One of the resident's own odd-job demands (item 7), as item 8 offers it."""

    id: int
    employer_name: str
    occupation: str
    town: str
    village: str
    workers_needed: int
    pay_per_day: int
    work_date: dt.date
    days: int
    last_day: dt.date = Field(description="用工最后一天；过了这一天登记不再列出")
    registered_on: dt.date


class MyDemands(BaseModel):
    demands: list[DemandOut] = Field(description="本人仍在用工期内的招聘零工登记，新的在前")


class DemandMatchQuery(Strict):
    id_number: IdNumber
    demand_id: int = Field(ge=1, le=2_000_000_000)


class SeekerSearch(Strict):
    """Item 9: who searches (identified), and the filters."""

    id_number: IdNumber
    occupation: Annotated[str, StringConstraints(max_length=20)] | None = None
    town: Annotated[str, StringConstraints(max_length=20)] | None = None
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=100)


@router.post(
    "/job-seekers",
    response_model=SeekerReceipt,
    summary="求职登记（固定工1 / 零工4）",
    dependencies=PERSON_SCOPED,
    openapi_extra=OUTBOX,
)
def register_seeker(body: SeekerRegistration, filing: Filing) -> Response:
    for index, town in enumerate(body.towns):
        _check_town(town, f"towns.{index}")
    session = filing.session
    person = person_for_registration(session, body.id_number, body.name)
    item_no = 1 if body.kind == "fixed" else 4
    enforce_rules(session, person, item_no, filing.today)
    seeker = session.scalar(
        select(JobSeeker).where(JobSeeker.person_id == person.id, JobSeeker.kind == body.kind)
    )
    if seeker is None:
        seeker = JobSeeker(person_id=person.id, kind=body.kind)
        session.add(seeker)
    seeker.occupations = list(dict.fromkeys(body.occupations))
    seeker.towns = list(dict.fromkeys(body.towns))
    seeker.salary_min, seeker.salary_max = body.salary_min, body.salary_max
    seeker.phone = body.phone
    seeker.skills = body.skills
    seeker.available_from = body.available_from
    seeker.active = True
    seeker.registered_at = dt.datetime.now(dt.UTC)
    person.seeking_work = True
    application = filing.file(
        person,
        body.agent,
        item_no=item_no,
        kind="fixed_job_seeker" if body.kind == "fixed" else "odd_job_seeker",
        details={"occupations": seeker.occupations, "towns": seeker.towns},
        status="completed",
        result="求职登记已完成，可查看为您推荐的岗位",
    )
    session.flush()
    return filing.answer(SeekerReceipt(seeker_id=seeker.id, receipt=receipt_of(application)))


@router.post(
    "/job-seekers/matches",
    response_model=PostingMatches,
    summary="岗位信息推荐（固定工2 / 零工5）",
    openapi_extra=READ_ONLY,
    dependencies=PERSON_SCOPED,
)
def seeker_matches(body: SeekerQuery, session: DbSession, today: Today) -> PostingMatches:
    person = require_person(session, body.id_number)
    seeker = session.scalar(
        select(JobSeeker).where(
            JobSeeker.person_id == person.id,
            JobSeeker.kind == body.kind,
            JobSeeker.active.is_(True),
        )
    )
    if seeker is None:
        item = "固定工求职登记" if body.kind == "fixed" else "零工求职登记"
        raise ApiError(404, "not_registered", f"尚未办理{item}，请先登记求职意向")
    matches = match_postings(session, seeker, today)
    return PostingMatches(
        kind=body.kind,
        occupations=list(seeker.occupations),
        matches=[
            PostingMatch(posting=posting_out(m.posting), score=m.score, reasons=m.reasons)
            for m in matches
        ],
    )


@router.post(
    "/odd-job-demands",
    response_model=DemandReceipt,
    summary="招聘零工登记（7）",
    dependencies=PERSON_SCOPED,
    openapi_extra=OUTBOX,
)
def register_demand(body: DemandRegistration, filing: Filing) -> Response:
    session, today = filing.session, filing.today
    _check_town(body.town, "town")
    if body.work_date < today:
        raise ApiError(422, "invalid_field", "用工日期不能早于今天", "work_date")
    if body.work_date > today + dt.timedelta(days=366):
        raise ApiError(422, "invalid_field", "用工日期不能晚于一年以后", "work_date")
    person = person_for_registration(session, body.id_number, body.name)
    enforce_rules(session, person, 7, today)
    demand = OddJobDemand(
        person_id=person.id,
        employer_name=body.employer_name,
        occupation=body.occupation,
        town=body.town,
        village=body.village,
        workers_needed=body.workers_needed,
        pay_per_day=body.pay_per_day,
        work_date=body.work_date,
        days=body.days,
        description=body.description,
        contact_phone=body.contact_phone,
    )
    session.add(demand)
    posting = JobPosting(
        kind="odd",
        title=f"{body.occupation}（{body.days}天）",
        occupation=body.occupation,
        employer_name=body.employer_name,
        town=body.town,
        village=body.village,
        salary_min=body.pay_per_day,
        salary_max=body.pay_per_day,
        salary_unit="day",
        headcount=body.workers_needed,
        description=body.description or f"{body.work_date:%m月%d日}起用工{body.days}天",
        requirements="",
        contact_phone=body.contact_phone,
        posted_on=today,
        valid_until=body.work_date + dt.timedelta(days=body.days),
        search_text="",  # with its grams, written by kiosk_backend.search at the flush
    )
    session.add(posting)
    session.flush()
    application = filing.file(
        person,
        body.agent,
        item_no=7,
        kind="odd_job_demand",
        details={"demand_id": demand.id, "posting_id": posting.id},
        status="completed",
        result="招聘信息已发布，可查看为您推荐的零工求职者",
    )
    answer = DemandReceipt(
        demand_id=demand.id, posting_id=posting.id, receipt=receipt_of(application)
    )
    return filing.answer(answer)


def seeker_public(seeker: JobSeeker, person: Person, today: dt.date) -> SeekerPublic:
    return SeekerPublic(
        seeker_id=seeker.id,
        name_masked=mask_name(person.name),
        gender=person.gender,
        age=age_on(person.birth_date, today),
        occupations=list(seeker.occupations),
        towns=list(seeker.towns),
        skills=seeker.skills,
        phone_masked=mask_phone(seeker.phone),
        available_from=seeker.available_from,
        registered_on=seeker.registered_at.date(),
    )


def _last_day(demand: OddJobDemand) -> dt.date:
    return demand.work_date + dt.timedelta(days=max(1, demand.days) - 1)


def _demand_out(demand: OddJobDemand, county_tz: ZoneInfo) -> DemandOut:
    return DemandOut(
        id=demand.id,
        employer_name=demand.employer_name,
        occupation=demand.occupation,
        town=demand.town,
        village=demand.village,
        workers_needed=demand.workers_needed,
        pay_per_day=demand.pay_per_day,
        work_date=demand.work_date,
        days=demand.days,
        last_day=_last_day(demand),
        registered_on=demand.registered_at.astimezone(county_tz).date(),
    )


def _open_demands(session: Session, person: Person, today: dt.date) -> list[OddJobDemand]:
    rows = session.scalars(
        select(OddJobDemand)
        .where(OddJobDemand.person_id == person.id)
        .order_by(OddJobDemand.registered_at.desc(), OddJobDemand.id.desc())
    ).all()
    return [d for d in rows if _last_day(d) >= today]


@router.post(
    "/odd-job-demands/mine",
    response_model=MyDemands,
    summary="本人仍在用工期内的招聘零工登记（8 选择要匹配的一条）",
    openapi_extra=READ_ONLY,
    dependencies=PERSON_SCOPED,
)
def my_demands(body: PersonQuery, session: DbSession, today: Today, request: Request) -> MyDemands:
    person = require_person(session, body.id_number)
    county_tz = ZoneInfo(request.app.state.settings.timezone)
    demands = _open_demands(session, person, today)
    return MyDemands(demands=[_demand_out(d, county_tz) for d in demands])


@router.post(
    "/odd-job-demands/matches",
    response_model=SeekerMatches,
    summary="零工求职信息推荐（8，只匹配本人的招聘登记）",
    openapi_extra=READ_ONLY,
    dependencies=PERSON_SCOPED,
)
def demand_matches(body: DemandMatchQuery, session: DbSession, today: Today) -> SeekerMatches:
    person = require_person(session, body.id_number)
    demand = session.get(OddJobDemand, body.demand_id)
    if demand is None or demand.person_id != person.id:  # another's demand: as if none
        raise ApiError(404, "not_found", "没有您的这条招聘零工登记", "demand_id")
    matches = match_seekers(session, demand, today)
    return SeekerMatches(
        demand_id=demand.id,
        matches=[
            SeekerMatch(
                seeker=seeker_public(m.seeker, m.person, today), score=m.score, reasons=m.reasons
            )
            for m in matches
        ],
    )


@router.post(
    "/odd-job-seekers/search",
    response_model=SeekerPage,
    summary="零工求职信息查询（9，需本人身份，联系方式脱敏）",
    openapi_extra=READ_ONLY,
    dependencies=PERSON_SCOPED,
)
def search_odd_seekers(body: SeekerSearch, session: DbSession, today: Today) -> SeekerPage:
    occupation, town = body.occupation, body.town
    query = (
        select(JobSeeker, Person)
        .join(Person, Person.id == JobSeeker.person_id)
        .where(JobSeeker.kind == "odd", JobSeeker.active.is_(True))
    )
    rows = session.execute(query.order_by(JobSeeker.registered_at.desc(), JobSeeker.id)).all()
    # Occupation/town lists are JSON: filter here (a county has hundreds of seekers, not millions).
    selected = [
        (s, p)
        for s, p in rows
        if (not occupation or any(occupation in o for o in s.occupations))
        and (not town or not s.towns or town in s.towns)
    ]
    start = (body.page - 1) * body.page_size
    return SeekerPage(
        page=body.page,
        page_size=body.page_size,
        total=len(selected),
        items=[seeker_public(s, p, today) for s, p in selected[start : start + body.page_size]],
    )
