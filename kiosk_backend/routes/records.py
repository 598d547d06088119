"""Personal records (25, 26, 27, 33, 36), 就业创业证 (13) and the person's archive (15).

All are read-only POSTs: the ID number travels in the body, never in a URL. Records answers
are paged, and every number a resident reads as a total is aggregated in SQL over the whole
history (or the chosen year), never from the rows of one page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import case, distinct, func, select, true
from sqlalchemy.orm import Session

from kiosk_backend.errors import ApiError
from kiosk_backend.identity import mask_id_number, mask_name
from kiosk_backend.identity_sessions import PERSON_SCOPED
from kiosk_backend.models import (
    ArchiveAgency,
    Contribution,
    EmploymentCertificate,
    Payment,
    Person,
    PersonArchive,
)
from kiosk_backend.people import require_person, resident_contribution_years
from kiosk_backend.routing import READ_ONLY, DbSession, Today
from kiosk_backend.schemas import IdNumber, PersonQuery, Strict

router = APIRouter(prefix="/persons", tags=["personal records"], dependencies=PERSON_SCOPED)

ENTERPRISE_STATUS_LABELS = {
    "none": "未参保",
    "active": "正常参保缴费",
    "suspended": "暂停缴费（中断）",
    "receiving": "已退休，按月领取养老金",
}
PAYMENT_STATUS_LABELS = {"paid": "已发放", "failed": "发放失败", "pending": "待发放"}
# 缴费类型 (item 33 asks for it by name; the enterprise scheme uses the same words)
CONTRIBUTION_TYPE_LABELS = {
    "normal": "正常缴费",
    "back_payment": "补缴",
    "government_paid": "政府代缴",
    "arrears": "欠费",
}
CENT = Decimal("0.01")
DEFAULT_PAGE_SIZE = 24


@dataclass(frozen=True)
class PaymentScheme:
    """A benefit whose payment records can be looked up (items 26, 27, 36)."""

    scheme: str
    receiving: Callable[[Person], bool]
    none_message: str


ENTERPRISE_PENSION_PAYMENTS = PaymentScheme(
    scheme="enterprise_pension",
    receiving=lambda person: person.receiving_enterprise_pension,
    none_message="未查询到企业职工养老金发放记录",
)
UNEMPLOYMENT_BENEFIT_PAYMENTS = PaymentScheme(
    scheme="unemployment_benefit",
    receiving=lambda person: person.receiving_ui_benefit,
    none_message="未查询到失业保险待遇发放记录",
)
RESIDENT_PENSION_PAYMENTS = PaymentScheme(
    scheme="resident_pension",
    receiving=lambda person: person.receiving_resident_basic,
    none_message="未查询到城乡居民养老金发放记录",
)


class RecordsQuery(Strict):
    """Body of a records lookup: the person, optionally one year, and a page of the rows."""

    id_number: IdNumber
    year: int | None = Field(None, ge=1950, le=2100, description="只看这一年；省略 = 全部年份")
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=120)


class PersonHeader(BaseModel):
    name_masked: str
    id_number_masked: str


class ContributionOut(BaseModel):
    period: str
    scheme: str
    contribution_type: str
    contribution_type_label: str = Field(description="缴费类型：正常缴费 / 补缴 / 政府代缴 …")
    grade: str = Field(description="缴费档次（城乡居民养老保险）；空 = 不适用")
    base: Decimal | None
    amount: Decimal
    subsidy: Decimal
    employer_name: str
    credited: bool
    credited_label: str
    paid_on: dt.date | None


class Component(BaseModel):
    name: str
    amount: Decimal


class PaymentOut(BaseModel):
    period: str
    amount: Decimal
    status: Literal["paid", "failed", "pending"]
    status_label: str
    failure_reason: str
    bank: str
    account_tail_masked: str
    paid_on: dt.date | None
    components: list[Component] = Field(description="待遇项目组成，合计等于 amount")


class CurrentMonth(BaseModel):
    """当前月待遇项目组成明细: the newest payment up to this month, item by item."""

    period: str
    amount: Decimal
    status: Literal["paid", "failed", "pending"]
    status_label: str
    components: list[Component]


class Paging(BaseModel):
    """Which rows this answer carries: one page of the chosen year (or of every year)."""

    years: list[int] = Field(description="有记录的年份，新的在前")
    year: int | None
    page: int
    page_size: int
    total: int = Field(description="所选年份（或全部）的记录条数")


class ContributionTotals(BaseModel):
    """Aggregated in SQL over the chosen year (or the whole history), never over one page."""

    periods: int = Field(description="已到账的缴费期数（月或年）")
    amount: Decimal = Field(description="已到账的个人缴费合计")
    subsidy: Decimal = Field(description="已到账的政府补贴合计")
    uncredited: int = Field(description="未到账的记录条数")


class PaymentTotals(BaseModel):
    paid_amount: Decimal
    paid_count: int
    failed_count: int
    pending_count: int


class EnterprisePensionStatus(Paging):
    person: PersonHeader
    insured_status: str
    insured_status_label: str
    insured_since: dt.date | None
    months_on_record: int = Field(description="全部缴费历史中已到账的月数")
    total_paid: Decimal = Field(description="全部缴费历史中已到账的个人缴费合计")
    totals: ContributionTotals
    contributions: list[ContributionOut]


class PaymentRecords(Paging):
    person: PersonHeader
    scheme: str
    receiving: bool
    payments: list[PaymentOut]
    totals: PaymentTotals
    failed_count: int = Field(description="所选年份（或全部）发放失败的笔数")
    current_month: CurrentMonth | None = Field(description="当前月待遇项目组成明细")
    message: str


class ResidentContributions(Paging):
    person: PersonHeader
    enrolled_basic: bool
    enrolled_supplementary: bool
    contribution_years: int
    totals: ContributionTotals
    contributions: list[ContributionOut]


class Certificate(BaseModel):
    person: PersonHeader
    cert_no: str
    issued_on: dt.date
    issuer: str
    status: str
    employment_state: str


class ArchiveLocation(BaseModel):
    person: PersonHeader
    agency_name: str
    address: str
    phone: str
    hours: str
    received_on: dt.date


def _header(person: Person) -> PersonHeader:
    return PersonHeader(
        name_masked=mask_name(person.name), id_number_masked=mask_id_number(person.id_number)
    )


def _contribution(c: Contribution) -> ContributionOut:
    return ContributionOut(
        period=c.period,
        scheme=c.scheme,
        contribution_type=c.contribution_type,
        contribution_type_label=CONTRIBUTION_TYPE_LABELS.get(
            c.contribution_type, c.contribution_type
        ),
        grade=c.grade or "",
        base=c.base,
        amount=c.amount,
        subsidy=c.subsidy,
        employer_name=c.employer_name,
        credited=c.credited,
        credited_label="已到账" if c.credited else "未到账",
        paid_on=c.paid_on,
    )


def components_of(amount: Decimal, stored: list[Any]) -> list[Component]:
    """The benefit's items, adding up to *amount* exactly.

    Rows store each item's ``amount``; older rows stored a ``share`` of the total instead: those
    are rounded to the fen and the last item takes the remainder, so the parts never disagree
    with the total a resident is paid.
    """
    parts = [c for c in stored if isinstance(c, dict) and isinstance(c.get("name"), str)]
    if all("amount" in c for c in parts):
        return [Component(name=c["name"], amount=Decimal(str(c["amount"]))) for c in parts]
    out: list[Component] = []
    left = amount
    for index, part in enumerate(parts):
        share = Decimal(str(part.get("share", 0)))
        value = left if index == len(parts) - 1 else (amount * share).quantize(CENT)
        left -= value
        out.append(Component(name=part["name"], amount=value))
    return out


def _payment(p: Payment) -> PaymentOut:
    amount = Decimal(p.amount)
    return PaymentOut(
        period=p.period,
        amount=amount,
        status=p.status,
        status_label=PAYMENT_STATUS_LABELS[p.status],
        failure_reason=p.failure_reason,
        bank=p.bank,
        account_tail_masked=f"****{p.account_tail}" if p.account_tail else "",
        paid_on=p.paid_on,
        components=components_of(amount, p.components),
    )


def _in_year(period_column, year: int | None):
    """Periods are "YYYY" or "YYYY-MM": both sort inside [year, year+1) as text."""
    if year is None:
        return true()
    return (period_column >= f"{year:04d}") & (period_column < f"{year + 1:04d}")


def _years(session: Session, period_column, *where) -> list[int]:
    year = func.substr(period_column, 1, 4)
    rows = session.scalars(select(year).where(*where).distinct().order_by(year.desc()))
    return [int(y) for y in rows if y and y.isdigit()]


def _paging(
    session: Session, query: RecordsQuery, period_column, where: tuple, total: int
) -> dict[str, Any]:
    return {
        "years": _years(session, period_column, *where),
        "year": query.year,
        "page": query.page,
        "page_size": query.page_size,
        "total": total,
    }


def _contribution_totals(session: Session, *where) -> tuple[int, ContributionTotals]:
    """How many rows match *where*, and their totals (credited rows only), in one query."""
    credited = Contribution.credited.is_(True)
    count, periods, amount, subsidy, uncredited = session.execute(
        select(
            func.count(Contribution.id),
            func.count(distinct(case((credited, Contribution.period)))),
            func.coalesce(func.sum(case((credited, Contribution.amount), else_=0)), 0),
            func.coalesce(func.sum(case((credited, Contribution.subsidy), else_=0)), 0),
            func.count(case((~credited, Contribution.id))),
        ).where(*where)
    ).one()
    return count, ContributionTotals(
        periods=periods,
        amount=Decimal(amount).quantize(CENT),
        subsidy=Decimal(subsidy).quantize(CENT),
        uncredited=uncredited,
    )


def _contribution_page(
    session: Session, person: Person, schemes: tuple[str, ...], query: RecordsQuery
) -> tuple[dict[str, Any], ContributionTotals, list[ContributionOut]]:
    """Paging facts, SQL totals of the selection, and one page of rows (newest first)."""
    person_rows = (Contribution.person_id == person.id, Contribution.scheme.in_(schemes))
    selected = (*person_rows, _in_year(Contribution.period, query.year))
    count, totals = _contribution_totals(session, *selected)
    rows = session.scalars(
        select(Contribution)
        .where(*selected)
        .order_by(Contribution.period.desc(), Contribution.scheme, Contribution.id)
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    paging = _paging(session, query, Contribution.period, person_rows, count)
    return paging, totals, [_contribution(c) for c in rows]


def _current_month(
    session: Session, person: Person, scheme: str, today: dt.date
) -> CurrentMonth | None:
    latest = session.scalar(
        select(Payment)
        .where(
            Payment.person_id == person.id,
            Payment.scheme == scheme,
            Payment.period <= f"{today:%Y-%m}",
        )
        .order_by(Payment.period.desc(), Payment.id.desc())
        .limit(1)
    )
    if latest is None:
        return None
    amount = Decimal(latest.amount)
    return CurrentMonth(
        period=latest.period,
        amount=amount,
        status=latest.status,
        status_label=PAYMENT_STATUS_LABELS[latest.status],
        components=components_of(amount, latest.components),
    )


def _payment_records(
    session: Session, query: RecordsQuery, benefit: PaymentScheme, today: dt.date
) -> PaymentRecords:
    """One page of the person's payments of the scheme, with SQL totals and a message."""
    person = require_person(session, query.id_number)
    person_rows = (Payment.person_id == person.id, Payment.scheme == benefit.scheme)
    selected = (*person_rows, _in_year(Payment.period, query.year))
    paid, failed, pending = (Payment.status == s for s in ("paid", "failed", "pending"))
    count, paid_amount, paid_count, failed_count, pending_count = session.execute(
        select(
            func.count(Payment.id),
            func.coalesce(func.sum(case((paid, Payment.amount), else_=0)), 0),
            func.count(case((paid, Payment.id))),
            func.count(case((failed, Payment.id))),
            func.count(case((pending, Payment.id))),
        ).where(*selected)
    ).one()
    rows = session.scalars(
        select(Payment)
        .where(*selected)
        .order_by(Payment.period.desc(), Payment.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    if not count:
        message = benefit.none_message
    elif failed_count:
        message = f"有{failed_count}笔发放失败，请按失败原因处理后联系社保经办机构重新发放"
    else:
        message = "发放正常"
    return PaymentRecords(
        **_paging(session, query, Payment.period, person_rows, count),
        person=_header(person),
        scheme=benefit.scheme,
        receiving=benefit.receiving(person),
        payments=[_payment(p) for p in rows],
        totals=PaymentTotals(
            paid_amount=Decimal(paid_amount).quantize(CENT),
            paid_count=paid_count,
            failed_count=failed_count,
            pending_count=pending_count,
        ),
        failed_count=failed_count,
        current_month=_current_month(session, person, benefit.scheme, today),
        message=message,
    )


@router.post(
    "/enterprise-pension/status",
    response_model=EnterprisePensionStatus,
    summary="企业职工基本养老保险参保情况查询（25）",
    openapi_extra=READ_ONLY,
)
def enterprise_pension_status(body: RecordsQuery, session: DbSession) -> EnterprisePensionStatus:
    person = require_person(session, body.id_number)
    schemes = ("enterprise_pension",)
    paging, totals, rows = _contribution_page(session, person, schemes, body)
    history = totals
    if body.year is not None:  # the header speaks of the whole history
        _count, history = _contribution_totals(
            session, Contribution.person_id == person.id, Contribution.scheme.in_(schemes)
        )
    return EnterprisePensionStatus(
        **paging,
        person=_header(person),
        insured_status=person.enterprise_pension_status,
        insured_status_label=ENTERPRISE_STATUS_LABELS.get(person.enterprise_pension_status, ""),
        insured_since=person.enterprise_pension_since,
        months_on_record=history.periods,
        total_paid=history.amount,
        totals=totals,
        contributions=rows,
    )


@router.post(
    "/enterprise-pension/payments",
    response_model=PaymentRecords,
    summary="企业职工基本养老保险待遇发放记录查询（26）",
    openapi_extra=READ_ONLY,
)
def enterprise_pension_payments(
    body: RecordsQuery, session: DbSession, today: Today
) -> PaymentRecords:
    return _payment_records(session, body, ENTERPRISE_PENSION_PAYMENTS, today)


@router.post(
    "/unemployment-insurance/payments",
    response_model=PaymentRecords,
    summary="失业保险待遇发放记录查询（27）",
    openapi_extra=READ_ONLY,
)
def unemployment_payments(body: RecordsQuery, session: DbSession, today: Today) -> PaymentRecords:
    return _payment_records(session, body, UNEMPLOYMENT_BENEFIT_PAYMENTS, today)


@router.post(
    "/resident-pension/contributions",
    response_model=ResidentContributions,
    summary="城乡居民养老保险缴费信息查询（33，含补充险）",
    openapi_extra=READ_ONLY,
)
def resident_contributions(body: RecordsQuery, session: DbSession) -> ResidentContributions:
    person = require_person(session, body.id_number)
    schemes = ("resident_pension", "resident_supplementary")
    paging, totals, rows = _contribution_page(session, person, schemes, body)
    return ResidentContributions(
        **paging,
        person=_header(person),
        enrolled_basic=person.resident_basic_enrolled,
        enrolled_supplementary=person.resident_supplementary_enrolled,
        contribution_years=resident_contribution_years(session, person.id),
        totals=totals,
        contributions=rows,
    )


@router.post(
    "/resident-pension/payments",
    response_model=PaymentRecords,
    summary="城乡居民养老保险待遇发放记录查询（36）",
    openapi_extra=READ_ONLY,
)
def resident_payments(body: RecordsQuery, session: DbSession, today: Today) -> PaymentRecords:
    return _payment_records(session, body, RESIDENT_PENSION_PAYMENTS, today)


@router.post(
    "/employment-certificate",
    response_model=Certificate,
    summary="《就业创业证》查询（13）",
    openapi_extra=READ_ONLY,
)
def employment_certificate(body: PersonQuery, session: DbSession) -> Certificate:
    person = require_person(session, body.id_number)
    cert = session.scalar(
        select(EmploymentCertificate).where(EmploymentCertificate.person_id == person.id)
    )
    if cert is None:
        raise ApiError(404, "certificate_not_found", "未查询到您申领的《就业创业证》")
    return Certificate(
        person=_header(person),
        cert_no=cert.cert_no,
        issued_on=cert.issued_on,
        issuer=cert.issuer,
        status="有效" if cert.status == "valid" else cert.status,
        employment_state=cert.employment_state,
    )


@router.post(
    "/archive",
    response_model=ArchiveLocation,
    summary="本人档案存放机构查询（15）",
    openapi_extra=READ_ONLY,
)
def archive_location(body: PersonQuery, session: DbSession) -> ArchiveLocation:
    person = require_person(session, body.id_number)
    row = session.execute(
        select(PersonArchive, ArchiveAgency)
        .join(ArchiveAgency, ArchiveAgency.id == PersonArchive.agency_id)
        .where(PersonArchive.person_id == person.id)
    ).first()
    if row is None:
        raise ApiError(
            404, "archive_not_found", "未查询到您的档案存放信息，请咨询县公共就业服务中心"
        )
    archive, agency = row
    return ArchiveLocation(
        person=_header(person),
        agency_name=agency.name,
        address=agency.address,
        phone=agency.phone,
        hours=agency.hours,
        received_on=archive.received_on,
    )
