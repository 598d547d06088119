"""Personal records (25, 26, 27, 33, 36), 就业创业证 (13) and the person's archive (15).

All are read-only POSTs: the ID number travels in the body, never in a URL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select
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
from kiosk_backend.routing import READ_ONLY, DbSession
from kiosk_backend.schemas import PersonQuery

router = APIRouter(prefix="/persons", tags=["personal records"], dependencies=PERSON_SCOPED)

ENTERPRISE_STATUS_LABELS = {
    "none": "未参保",
    "active": "正常参保缴费",
    "suspended": "暂停缴费（中断）",
    "receiving": "已退休，按月领取养老金",
}
PAYMENT_STATUS_LABELS = {"paid": "已发放", "failed": "发放失败", "pending": "待发放"}


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


class PersonHeader(BaseModel):
    name_masked: str
    id_number_masked: str


class ContributionOut(BaseModel):
    period: str
    scheme: str
    contribution_type: str
    base: Decimal | None
    amount: Decimal
    subsidy: Decimal
    employer_name: str
    credited: bool
    credited_label: str
    paid_on: dt.date | None


class PaymentOut(BaseModel):
    period: str
    amount: Decimal
    status: Literal["paid", "failed", "pending"]
    status_label: str
    failure_reason: str
    bank: str
    account_tail_masked: str
    paid_on: dt.date | None
    components: list[dict[str, Decimal | str]]


class EnterprisePensionStatus(BaseModel):
    person: PersonHeader
    insured_status: str
    insured_status_label: str
    insured_since: dt.date | None
    months_on_record: int
    total_paid: Decimal
    contributions: list[ContributionOut]


class PaymentRecords(BaseModel):
    person: PersonHeader
    scheme: str
    receiving: bool
    payments: list[PaymentOut]
    failed_count: int
    message: str


class ResidentContributions(BaseModel):
    person: PersonHeader
    enrolled_basic: bool
    enrolled_supplementary: bool
    contribution_years: int
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
        base=c.base,
        amount=c.amount,
        subsidy=c.subsidy,
        employer_name=c.employer_name,
        credited=c.credited,
        credited_label="已到账" if c.credited else "未到账",
        paid_on=c.paid_on,
    )


def _payment(p: Payment) -> PaymentOut:
    amount = Decimal(p.amount)
    components = [
        {"name": c["name"], "amount": (amount * Decimal(str(c["share"]))).quantize(Decimal("0.01"))}
        for c in p.components
    ]
    return PaymentOut(
        period=p.period,
        amount=amount,
        status=p.status,
        status_label=PAYMENT_STATUS_LABELS[p.status],
        failure_reason=p.failure_reason,
        bank=p.bank,
        account_tail_masked=f"****{p.account_tail}" if p.account_tail else "",
        paid_on=p.paid_on,
        components=components,
    )


def _contributions(
    session: Session, person: Person, schemes: tuple[str, ...], limit: int = 120
) -> list[Contribution]:
    return list(
        session.scalars(
            select(Contribution)
            .where(Contribution.person_id == person.id, Contribution.scheme.in_(schemes))
            .order_by(Contribution.period.desc(), Contribution.scheme)
            .limit(limit)
        )
    )


def _payment_records(session: Session, id_number: str, benefit: PaymentScheme) -> PaymentRecords:
    """The person's latest 60 payments of the scheme, with a failed count and a message."""
    person = require_person(session, id_number)
    rows = list(
        session.scalars(
            select(Payment)
            .where(Payment.person_id == person.id, Payment.scheme == benefit.scheme)
            .order_by(Payment.period.desc())
            .limit(60)
        )
    )
    failed = sum(1 for p in rows if p.status == "failed")
    message = (
        benefit.none_message
        if not rows
        else (
            f"有{failed}笔发放失败，请按失败原因处理后联系社保经办机构重新发放"
            if failed
            else "发放正常"
        )
    )
    return PaymentRecords(
        person=_header(person),
        scheme=benefit.scheme,
        receiving=benefit.receiving(person),
        payments=[_payment(p) for p in rows],
        failed_count=failed,
        message=message,
    )


@router.post(
    "/enterprise-pension/status",
    response_model=EnterprisePensionStatus,
    summary="企业职工基本养老保险参保情况查询（25）",
    openapi_extra=READ_ONLY,
)
def enterprise_pension_status(body: PersonQuery, session: DbSession) -> EnterprisePensionStatus:
    person = require_person(session, body.id_number)
    rows = _contributions(session, person, ("enterprise_pension",))
    return EnterprisePensionStatus(
        person=_header(person),
        insured_status=person.enterprise_pension_status,
        insured_status_label=ENTERPRISE_STATUS_LABELS.get(person.enterprise_pension_status, ""),
        insured_since=person.enterprise_pension_since,
        months_on_record=len(rows),
        total_paid=sum((Decimal(c.amount) for c in rows), Decimal("0.00")),
        contributions=[_contribution(c) for c in rows],
    )


@router.post(
    "/enterprise-pension/payments",
    response_model=PaymentRecords,
    summary="企业职工基本养老保险待遇发放记录查询（26）",
    openapi_extra=READ_ONLY,
)
def enterprise_pension_payments(body: PersonQuery, session: DbSession) -> PaymentRecords:
    return _payment_records(session, body.id_number, ENTERPRISE_PENSION_PAYMENTS)


@router.post(
    "/unemployment-insurance/payments",
    response_model=PaymentRecords,
    summary="失业保险待遇发放记录查询（27）",
    openapi_extra=READ_ONLY,
)
def unemployment_payments(body: PersonQuery, session: DbSession) -> PaymentRecords:
    return _payment_records(session, body.id_number, UNEMPLOYMENT_BENEFIT_PAYMENTS)


@router.post(
    "/resident-pension/contributions",
    response_model=ResidentContributions,
    summary="城乡居民养老保险缴费信息查询（33，含补充险）",
    openapi_extra=READ_ONLY,
)
def resident_contributions(body: PersonQuery, session: DbSession) -> ResidentContributions:
    person = require_person(session, body.id_number)
    rows = _contributions(session, person, ("resident_pension", "resident_supplementary"))
    return ResidentContributions(
        person=_header(person),
        enrolled_basic=person.resident_basic_enrolled,
        enrolled_supplementary=person.resident_supplementary_enrolled,
        contribution_years=resident_contribution_years(session, person.id),
        contributions=[_contribution(c) for c in rows],
    )


@router.post(
    "/resident-pension/payments",
    response_model=PaymentRecords,
    summary="城乡居民养老保险待遇发放记录查询（36）",
    openapi_extra=READ_ONLY,
)
def resident_payments(body: PersonQuery, session: DbSession) -> PaymentRecords:
    return _payment_records(session, body.id_number, RESIDENT_PENSION_PAYMENTS)


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
