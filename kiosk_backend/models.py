"""SQLAlchemy 2.0 models of the reference platform (SQLite and PostgreSQL).

The schema itself is created by the Alembic migrations in ``kiosk_backend/migrations``; a test
proves the migrations produce exactly these models. Times are timezone-aware UTC; calendar dates
(posted_on, due dates, queue dates) are local dates of the county (Asia/Shanghai).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


# --- kiosks and the signing / idempotency contract -------------------------------------------


PRINCIPAL_KIOSK = "kiosk"
PRINCIPAL_DESK = "desk"
PRINCIPAL_KINDS = (PRINCIPAL_KIOSK, PRINCIPAL_DESK)


class Kiosk(Base):
    """A signing principal: a service-point kiosk, or a responder desk of the county / city /
    province (``kind``). Desks sign like kiosks but may only use the desk endpoints, and kiosks
    only the kiosk endpoints (enforced by :mod:`kiosk_backend.security`)."""

    __tablename__ = "kiosks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default=PRINCIPAL_KIOSK)
    # The HMAC secret, sealed with the server key (kiosk_backend.provision.kiosk_secret).
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    service_point: Mapped[str] = mapped_column(String(200), default="")
    # Set by the county at provisioning (``add-kiosk --region``); the kiosk cannot change it.
    region_code: Mapped[str] = mapped_column(String(12), default="")
    version: Mapped[str] = mapped_column(String(40), default="")
    capabilities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    registered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    announced_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    last_heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    last_devices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    paper_level: Mapped[str] = mapped_column(String(20), default="unknown")
    outbox_depth: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class SeenNonce(Base):
    """A nonce accepted from a kiosk; kept until it can no longer be replayed."""

    __tablename__ = "seen_nonces"

    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)


class IdempotencyRecord(Base):
    """The first answer to a POST with a given Idempotency-Key (status None while in flight).

    ``request_hash`` is keyed (HMAC under a server subkey, never a bare hash of a body that
    holds an ID number); ``response_body`` is sealed with the server key (see
    :mod:`kiosk_backend.security`). Read-only POSTs are never recorded.
    """

    __tablename__ = "idempotency_records"

    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    method_path: Mapped[str] = mapped_column(String(300))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(100), default="application/json")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow, index=True)


class KioskAuditHead(Base):
    """A head (``seq``, ``hash``) of a kiosk's maintenance audit log as a heartbeat brought it;
    one row per head that differs from the kiosk's previous one. ``regression``: this head does
    not extend the previous one (a lower ``seq``, or the same ``seq`` with another hash), i.e.
    entries were removed or rewritten on the kiosk. Never updated or deleted by the API."""

    __tablename__ = "kiosk_audit_heads"
    __table_args__ = (Index("ix_kiosk_audit_heads_kiosk", "kiosk_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    regression: Mapped[bool] = mapped_column(Boolean, default=False)


class HousekeepingTurn(Base):
    """When a periodic job (purging spent nonces, old idempotency answers) last ran, shared by
    every worker process: one of them takes each turn (:mod:`kiosk_backend.housekeeping`)."""

    __tablename__ = "housekeeping_turns"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_run_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


# --- people, employers, jobs --------------------------------------------------------------------


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str] = mapped_column(String(6))  # male / female
    birth_date: Mapped[dt.date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(20), default="")
    town: Mapped[str] = mapped_column(String(20), default="")
    village: Mapped[str] = mapped_column(String(40), default="")
    is_student: Mapped[bool] = mapped_column(Boolean, default=False)
    employment_status: Mapped[str] = mapped_column(String(20), default="employed")
    # enterprise employee pension (企业职工基本养老保险)
    enterprise_pension_status: Mapped[str] = mapped_column(String(20), default="none")
    enterprise_pension_since: Mapped[dt.date | None] = mapped_column(Date)
    receiving_enterprise_pension: Mapped[bool] = mapped_column(Boolean, default=False)
    # unemployment insurance
    ui_insured_months: Mapped[int] = mapped_column(Integer, default=0)
    separation_reason: Mapped[str] = mapped_column(String(20), default="")
    registered_unemployed: Mapped[bool] = mapped_column(Boolean, default=False)
    seeking_work: Mapped[bool] = mapped_column(Boolean, default=False)
    receiving_ui_benefit: Mapped[bool] = mapped_column(Boolean, default=False)
    # resident pension (城乡居民养老保险)
    resident_basic_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    resident_supplementary_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    receiving_resident_basic: Mapped[bool] = mapped_column(Boolean, default=False)
    receiving_resident_supplementary: Mapped[bool] = mapped_column(Boolean, default=False)
    # which statutory retirement age applies to a woman: worker (原50) / cadre (原55) / "" unknown
    job_category: Mapped[str] = mapped_column(String(10), default="")
    last_employer: Mapped[str] = mapped_column(String(100), default="")  # item 11
    # item 10 灵活就业登记, written when it completes
    flexible_employment_type: Mapped[str] = mapped_column(String(20), default="")
    flexible_employment_since: Mapped[dt.date | None] = mapped_column(Date)
    industry: Mapped[str] = mapped_column(String(40), default="")
    essc_qr: Mapped[str | None] = mapped_column(String(200), unique=True)


class Employer(Base):
    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    industry: Mapped[str] = mapped_column(String(40))
    town: Mapped[str] = mapped_column(String(20))
    contact_phone: Mapped[str] = mapped_column(String(20))


class JobPosting(Base):
    """A fixed job (固定工) or odd job (零工). search_text is what the n-gram index covers."""

    __tablename__ = "job_postings"
    __table_args__ = (
        Index("ix_job_postings_kind_posted", "kind", "posted_on"),
        Index("ix_job_postings_town", "town"),
        Index("ix_job_postings_occupation", "occupation"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # fixed / odd
    title: Mapped[str] = mapped_column(String(100))
    occupation: Mapped[str] = mapped_column(String(40))
    employer_name: Mapped[str] = mapped_column(String(100))
    town: Mapped[str] = mapped_column(String(20))
    village: Mapped[str] = mapped_column(String(40), default="")
    salary_min: Mapped[int] = mapped_column(Integer)
    salary_max: Mapped[int] = mapped_column(Integer)
    salary_unit: Mapped[str] = mapped_column(String(10))  # month / day
    headcount: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str] = mapped_column(Text, default="")
    requirements: Mapped[str] = mapped_column(Text, default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    posted_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    search_text: Mapped[str] = mapped_column(Text)


class PostingGram(Base):
    """Unigram/bigram index of job_postings.search_text (Chinese substring search), with the
    posting's kind and dates copied beside each gram so a search page never reads job_postings
    to count or order (kept in step by a trigger, migration 0011)."""

    __tablename__ = "posting_grams"
    __table_args__ = (
        Index("ix_posting_grams_posting", "posting_id"),
        Index("ix_posting_grams_listing", "gram", "posted_on", "posting_id", "kind", "valid_until"),
    )

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    posting_id: Mapped[int] = mapped_column(
        ForeignKey("job_postings.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    posted_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)


class JobSeeker(Base):
    """A registered job seeker (item 1: fixed, item 4: odd)."""

    __tablename__ = "job_seekers"
    __table_args__ = (UniqueConstraint("person_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    kind: Mapped[str] = mapped_column(String(10))
    occupations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    towns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    salary_min: Mapped[int | None] = mapped_column(Integer)
    salary_max: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str] = mapped_column(String(20))
    skills: Mapped[str] = mapped_column(String(200), default="")
    available_from: Mapped[dt.date | None] = mapped_column(Date)
    registered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class OddJobDemand(Base):
    """An odd-job hiring registration (item 7)."""

    __tablename__ = "odd_job_demands"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    employer_name: Mapped[str] = mapped_column(String(100))
    occupation: Mapped[str] = mapped_column(String(40))
    town: Mapped[str] = mapped_column(String(20))
    village: Mapped[str] = mapped_column(String(40), default="")
    workers_needed: Mapped[int] = mapped_column(Integer)
    pay_per_day: Mapped[int] = mapped_column(Integer)
    work_date: Mapped[dt.date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str] = mapped_column(String(500), default="")
    contact_phone: Mapped[str] = mapped_column(String(20))
    registered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)


# --- applications, records ----------------------------------------------------------------------


class Application(Base):
    """Anything a resident filed (registrations, applications, pre-applications): 我的办件."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_person", "person_id", "submitted_at"),
        # the console's queues: oldest first, by status
        Index("ix_applications_status_submitted", "status", "submitted_at", "id"),
        Index("ix_applications_submitted", "submitted_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    item_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    kiosk_id: Mapped[str] = mapped_column(String(64), default="")
    service_point: Mapped[str] = mapped_column(String(200), default="")
    # The filing kiosk's region at filing time: the county desk that works it.
    region_code: Mapped[str] = mapped_column(String(12), default="", index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    queue_no: Mapped[str | None] = mapped_column(String(8))
    result: Mapped[str] = mapped_column(String(300), default="")
    # 代办: who submitted on the resident's behalf ("" when the resident came in person).
    agent_id_number: Mapped[str] = mapped_column(String(18), default="")
    agent_name: Mapped[str] = mapped_column(String(50), default="")
    agent_relation: Mapped[str] = mapped_column(String(20), default="")
    updated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # The county's local day the counter accepted a 预约柜台办理 (its due date counts from it).
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)


class ApplicationEvent(Base):
    """One step of an application's back-office progression (受理 → 审核中 → 已办结 / 不予受理):
    who moved it, from which status to which, and why. Nothing is overwritten without a trace."""

    __tablename__ = "application_events"
    __table_args__ = (Index("ix_application_events_application", "application_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(300), default="")


class PlatformSecret(Base):
    """A secret the platform makes for itself on first start, e.g. the key of the receipts'
    progress check codes (``kiosk_backend.progress``). Never sent to any client."""

    __tablename__ = "platform_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)


class QueueCounter(Base):
    """Last queue number handed out per service point per local day."""

    __tablename__ = "queue_counters"

    service_point: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Contribution(Base):
    """One paid (or owed) contribution: enterprise pension / unemployment / resident pension."""

    __tablename__ = "contributions"
    __table_args__ = (Index("ix_contributions_person_scheme", "person_id", "scheme", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    scheme: Mapped[str] = mapped_column(String(30))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM or YYYY
    contribution_type: Mapped[str] = mapped_column(String(20), default="normal")
    grade: Mapped[str] = mapped_column(String(20), default="")  # 缴费档次 (resident pension)
    base: Mapped[float | None] = mapped_column(Numeric(12, 2))
    amount: Mapped[float] = mapped_column(Numeric(12, 2))
    subsidy: Mapped[float] = mapped_column(Numeric(12, 2), default=0)
    employer_name: Mapped[str] = mapped_column(String(100), default="")
    credited: Mapped[bool] = mapped_column(Boolean, default=True)
    paid_on: Mapped[dt.date | None] = mapped_column(Date)


class Payment(Base):
    """One benefit payout; failed ones carry the reason."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_person_scheme", "person_id", "scheme", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    scheme: Mapped[str] = mapped_column(String(30))
    period: Mapped[str] = mapped_column(String(7))
    amount: Mapped[float] = mapped_column(Numeric(12, 2))
    components: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10))  # paid / failed / pending
    failure_reason: Mapped[str] = mapped_column(String(200), default="")
    bank: Mapped[str] = mapped_column(String(60), default="")
    account_tail: Mapped[str] = mapped_column(String(4), default="")
    paid_on: Mapped[dt.date | None] = mapped_column(Date)


class EmploymentCertificate(Base):
    """《就业创业证》."""

    __tablename__ = "employment_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), unique=True)
    cert_no: Mapped[str] = mapped_column(String(30), unique=True)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    employment_state: Mapped[str] = mapped_column(String(40))


# --- public information --------------------------------------------------------------------------


class PolicyDocument(Base):
    __tablename__ = "policy_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    doc_no: Mapped[str] = mapped_column(String(60), default="")
    issuer: Mapped[str] = mapped_column(String(100))
    published_on: Mapped[dt.date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)


class JobFair(Base):
    __tablename__ = "job_fairs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    venue: Mapped[str] = mapped_column(String(200))
    town: Mapped[str] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(200))
    organiser: Mapped[str] = mapped_column(String(100))
    employers_count: Mapped[int] = mapped_column(Integer)
    positions_count: Mapped[int] = mapped_column(Integer)
    contact_phone: Mapped[str] = mapped_column(String(20))


class ArchiveAgency(Base):
    __tablename__ = "archive_agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    hours: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(300))


class PersonArchive(Base):
    """Where a mobile worker's personnel file (档案) is kept."""

    __tablename__ = "person_archives"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("archive_agencies.id"))
    received_on: Mapped[dt.date] = mapped_column(Date)


# --- operators, help calls -----------------------------------------------------------------------


class Operator(Base):
    """A staff account of 附件3 (系统管理员 / 业务管理员 / 业务操作员, and vendor engineers).

    ``status`` is what kiosks see (active / locked / cancelled); ``lock_reason`` says why a
    locked account is locked (``idle``: 3 months without sign-in, ``frozen``: frozen by a
    系统管理员, e.g. a leaked account). ``region`` is the unit's name (沁河镇城关社区),
    ``region_code`` the division-code prefix the account works in (14 province, 1404 city,
    140431 county): every console query is scoped by it. ``grants``: the console duties
    (:class:`kiosk.domain.roles.Permission` names) granted within what ``role`` allows.
    The lifecycle lives in :mod:`kiosk_backend.staff`.
    """

    __tablename__ = "operators"

    account: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(100))
    essc_qr: Mapped[str] = mapped_column(String(200), unique=True)
    last_signin_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    region_code: Mapped[str] = mapped_column(String(12), default="", index=True)
    title: Mapped[str] = mapped_column(String(50), default="")
    grants: Mapped[list[Any]] = mapped_column(JSON, default=list)
    lock_reason: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    totp_secret: Mapped[str] = mapped_column(String(64), default="")
    password_must_change: Mapped[bool] = mapped_column(Boolean, default=False)
    reactivated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class HelpRequest(Base):
    __tablename__ = "help_requests"
    __table_args__ = (Index("ix_help_requests_state", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    screen: Mapped[str] = mapped_column(String(60))
    item_no: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_utcnow)
    state: Mapped[str] = mapped_column(String(20), default="open")  # open / taken / done
    handled_by: Mapped[str] = mapped_column(String(40), default="")
    handled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


# The fault workflow's ledger tables and the staff console's tables live in their own modules;
# importing them here keeps them in Base.metadata wherever the models are used (migrations,
# schema tests).
from kiosk_backend import identity_models, ledger_models, staff_models  # noqa: E402, F401
