"""Job postings (items 3 and 6): Chinese substring search, filters and paging."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from kiosk_backend.deps import db_session, local_today
from kiosk_backend.errors import ApiError, not_found
from kiosk_backend.models import JobPosting
from kiosk_backend.schemas import NO_CONTROL_CHARS, Page
from kiosk_backend.search import MAX_QUERY_CHARS, search_page

router = APIRouter(tags=["jobs"])

SALARY_UNIT_LABELS = {"month": "元/月", "day": "元/天"}


class Posting(BaseModel):
    id: int
    kind: Literal["fixed", "odd"]
    title: str
    occupation: str
    employer_name: str
    town: str
    village: str
    salary_min: int
    salary_max: int
    salary_unit: Literal["month", "day"]
    salary_label: str
    headcount: int
    description: str
    requirements: str
    contact_phone: str
    posted_on: dt.date
    valid_until: dt.date


class PostingPage(Page):
    items: list[Posting]


def posting_out(p: JobPosting) -> Posting:
    return Posting(
        id=p.id,
        kind=p.kind,
        title=p.title,
        occupation=p.occupation,
        employer_name=p.employer_name,
        town=p.town,
        village=p.village,
        salary_min=p.salary_min,
        salary_max=p.salary_max,
        salary_unit=p.salary_unit,
        salary_label=f"{p.salary_min}-{p.salary_max}{SALARY_UNIT_LABELS[p.salary_unit]}",
        headcount=p.headcount,
        description=p.description,
        requirements=p.requirements,
        contact_phone=p.contact_phone,
        posted_on=p.posted_on,
        valid_until=p.valid_until,
    )


@router.get("/jobs", response_model=PostingPage, summary="岗位查询（固定工3 / 零工6）")
def search_jobs(
    session: Annotated[Session, Depends(db_session)],
    today: Annotated[dt.date, Depends(local_today)],
    q: Annotated[
        str,
        Query(
            max_length=MAX_QUERY_CHARS,
            pattern=NO_CONTROL_CHARS,
            description="中文子串，如 司机、电工",
        ),
    ] = "",
    kind: Literal["fixed", "odd"] | None = None,
    town: Annotated[str | None, Query(max_length=20, pattern=NO_CONTROL_CHARS)] = None,
    occupation: Annotated[str | None, Query(max_length=20, pattern=NO_CONTROL_CHARS)] = None,
    salary_min: Annotated[int | None, Query(ge=0, le=1_000_000, description="期望最低薪资")] = None,
    salary_max: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
    posted_since: dt.date | None = None,
    include_expired: bool = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PostingPage:
    if salary_min is not None and salary_max is not None and salary_min > salary_max:
        raise ApiError(422, "invalid_field", "最低薪资不能高于最高薪资", "salary_min")
    conditions = []
    if town:
        conditions.append(JobPosting.town == town)
    if occupation:
        conditions.append(JobPosting.occupation == occupation)
    if salary_min is not None:  # the posting pays at least what is asked, at its top
        conditions.append(JobPosting.salary_max >= salary_min)
    if salary_max is not None:
        conditions.append(JobPosting.salary_min <= salary_max)
    total, rows = search_page(
        session,
        q,
        kind=kind,
        valid_on=None if include_expired else today,
        posted_since=posted_since,
        where=conditions,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return PostingPage(
        page=page, page_size=page_size, total=total, items=[posting_out(p) for p in rows]
    )


@router.get(
    "/jobs/{posting_id}",
    response_model=Posting,
    summary="岗位详情",
    responses={404: {"description": "没有这个岗位"}},
)
def get_job(
    posting_id: Annotated[int, Path(ge=1, le=2_000_000_000)],
    session: Annotated[Session, Depends(db_session)],
) -> Posting:
    posting = session.get(JobPosting, posting_id)
    if posting is None:
        raise not_found("没有这个岗位，可能已下架")
    return posting_out(posting)
