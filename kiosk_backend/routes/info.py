"""Public information: policy documents (12), job fairs (14), archive agencies (15)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kiosk_backend.deps import db_session
from kiosk_backend.errors import not_found
from kiosk_backend.models import ArchiveAgency, JobFair, PolicyDocument
from kiosk_backend.schemas import NO_CONTROL_CHARS, Page

router = APIRouter(tags=["public information"])


class PolicySummary(BaseModel):
    id: int
    title: str
    doc_no: str
    issuer: str
    published_on: dt.date
    category: str
    summary: str


class Policy(PolicySummary):
    body: str


class PolicyPage(Page):
    items: list[PolicySummary]


class Fair(BaseModel):
    id: int
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    venue: str
    town: str
    audience: str
    organiser: str
    employers_count: int
    positions_count: int
    contact_phone: str


class FairList(BaseModel):
    items: list[Fair]


class Agency(BaseModel):
    id: int
    name: str
    address: str
    phone: str
    hours: str
    scope: str


class AgencyList(BaseModel):
    items: list[Agency]


def _summary(p: PolicyDocument) -> PolicySummary:
    return PolicySummary(
        id=p.id,
        title=p.title,
        doc_no=p.doc_no,
        issuer=p.issuer,
        published_on=p.published_on,
        category=p.category,
        summary=p.summary,
    )


@router.get("/policies", response_model=PolicyPage, summary="就业政策法规查询（12）")
def policies(
    session: Annotated[Session, Depends(db_session)],
    q: Annotated[str, Query(max_length=20, pattern=NO_CONTROL_CHARS)] = "",
    category: Annotated[str | None, Query(max_length=10, pattern=NO_CONTROL_CHARS)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PolicyPage:
    conditions = []
    if q.strip():
        pattern = f"%{q.strip()}%"
        conditions.append(
            or_(PolicyDocument.title.like(pattern), PolicyDocument.summary.like(pattern))
        )
    if category:
        conditions.append(PolicyDocument.category == category)
    total = session.scalar(select(func.count()).select_from(PolicyDocument).where(*conditions))
    rows = session.scalars(
        select(PolicyDocument)
        .where(*conditions)
        .order_by(PolicyDocument.published_on.desc(), PolicyDocument.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return PolicyPage(
        page=page, page_size=page_size, total=total or 0, items=[_summary(p) for p in rows]
    )


@router.get("/policies/{policy_id}", response_model=Policy, summary="政策全文")
def policy(
    policy_id: Annotated[int, Path(ge=1, le=2_000_000_000)],
    session: Annotated[Session, Depends(db_session)],
) -> Policy:
    p = session.get(PolicyDocument, policy_id)
    if p is None:
        raise not_found("没有这份政策文件")
    return Policy(**_summary(p).model_dump(), body=p.body)


@router.get("/job-fairs", response_model=FairList, summary="招聘会信息查询（14）")
def job_fairs(
    session: Annotated[Session, Depends(db_session)], include_past: bool = False
) -> FairList:
    query = select(JobFair).order_by(JobFair.starts_at)
    if not include_past:
        query = query.where(JobFair.ends_at >= dt.datetime.now(dt.UTC))
    return FairList(
        items=[
            Fair(
                id=f.id,
                title=f.title,
                starts_at=f.starts_at,
                ends_at=f.ends_at,
                venue=f.venue,
                town=f.town,
                audience=f.audience,
                organiser=f.organiser,
                employers_count=f.employers_count,
                positions_count=f.positions_count,
                contact_phone=f.contact_phone,
            )
            for f in session.scalars(query)
        ]
    )


@router.get("/archive-agencies", response_model=AgencyList, summary="档案存放机构（15）")
def archive_agencies(session: Annotated[Session, Depends(db_session)]) -> AgencyList:
    return AgencyList(
        items=[
            Agency(
                id=a.id, name=a.name, address=a.address, phone=a.phone, hours=a.hours, scope=a.scope
            )
            for a in session.scalars(select(ArchiveAgency).order_by(ArchiveAgency.id))
        ]
    )
