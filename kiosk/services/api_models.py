"""Plain frozen dataclasses for what the platform answers, and one strict parser for them all.

The shapes follow the reference server's OpenAPI document (``/openapi.json``). :func:`parse`
builds a dataclass from decoded JSON by its type hints (nested dataclasses, lists, optionals,
dates, datetimes, decimals); unknown keys are ignored (the platform may add fields), a missing
or mistyped one raises :class:`~kiosk.services.errors.BackendProtocolError`. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from kiosk.services.errors import BackendProtocolError

T = TypeVar("T")

# Paths of submissions (sent through the outbox) ------------------------------------------------
PATH_JOB_SEEKERS = "/api/v1/job-seekers"  # items 1 and 4
PATH_ODD_JOB_DEMANDS = "/api/v1/odd-job-demands"  # item 7
PATH_FLEXIBLE_EMPLOYMENT = "/api/v1/applications/flexible-employment"  # item 10
PATH_UNEMPLOYMENT_REGISTRATION = "/api/v1/applications/unemployment-registration"  # item 11
PATH_SKILL_SUBSIDY = "/api/v1/applications/skill-subsidy"  # item 22
PATH_UNEMPLOYMENT_BENEFIT = "/api/v1/applications/unemployment-benefit"  # item 23
PATH_WORK_ORDERS = "/api/v1/work-orders"  # the 18 counter-only items
# Device faults and problem reports go to the 问题台账 (the platform's one ticket system).
PATH_TICKETS = "/api/v1/ledger/tickets"
PATH_TICKET_CLOSE = "/api/v1/ledger/tickets/close"  # by client_ref / fault_key in the body


@dataclass(frozen=True)
class Health:
    status: str
    server_time: dt.datetime
    api_version: str


@dataclass(frozen=True)
class KioskRegistration:
    kiosk_id: str
    service_point: str
    registered_at: dt.datetime
    server_time: dt.datetime


@dataclass(frozen=True)
class HeartbeatAck:
    server_time: dt.datetime
    open_tickets: int


@dataclass(frozen=True)
class CatalogueItem:
    no: int
    category: str
    name: str
    content: str
    channels: list[str]
    kiosk_runs: bool
    targets: str
    conditions: str
    materials: list[str]
    materials_rule: str
    time_limit_days: int
    time_limit_text: str


@dataclass(frozen=True)
class Catalogue:
    items: list[CatalogueItem]


@dataclass(frozen=True)
class Town:
    name: str
    villages: list[str]


@dataclass(frozen=True)
class Places:
    county: str
    region_code: str
    towns: list[Town]


@dataclass(frozen=True)
class Posting:
    id: int
    kind: str  # fixed / odd
    title: str
    occupation: str
    employer_name: str
    town: str
    village: str
    salary_min: int
    salary_max: int
    salary_unit: str  # month / day
    salary_label: str
    headcount: int
    description: str
    requirements: str
    contact_phone: str
    posted_on: dt.date
    valid_until: dt.date


@dataclass(frozen=True)
class PostingPage:
    page: int
    page_size: int
    total: int
    items: list[Posting]


@dataclass(frozen=True)
class PostingMatch:
    posting: Posting
    score: int
    reasons: list[str]


@dataclass(frozen=True)
class PostingMatches:
    kind: str
    occupations: list[str]
    matches: list[PostingMatch]


@dataclass(frozen=True)
class SeekerPublic:
    seeker_id: int
    name_masked: str
    gender: str
    age: int
    occupations: list[str]
    towns: list[str]
    skills: str
    phone_masked: str
    available_from: dt.date | None
    registered_on: dt.date


@dataclass(frozen=True)
class SeekerMatch:
    seeker: SeekerPublic
    score: int
    reasons: list[str]


@dataclass(frozen=True)
class SeekerMatches:
    demand_id: int
    matches: list[SeekerMatch]


@dataclass(frozen=True)
class SeekerPage:
    page: int
    page_size: int
    total: int
    items: list[SeekerPublic]


@dataclass(frozen=True)
class Receipt:
    """What the platform answers to a submission: 办件编号, status and 办结期限."""

    number: str
    item_no: int
    item_name: str
    status: str
    status_label: str
    submitted_at: dt.datetime
    due_date: dt.date | None = None
    due_estimated: bool = False
    due_note: str = ""
    queue_no: str | None = None
    message: str = ""


@dataclass(frozen=True)
class SeekerReceipt:
    seeker_id: int
    receipt: Receipt


@dataclass(frozen=True)
class DemandReceipt:
    demand_id: int
    posting_id: int
    receipt: Receipt


@dataclass(frozen=True)
class Condition:
    key: str
    label: str
    met: bool
    detail: str


@dataclass(frozen=True)
class Eligibility:
    item_no: int
    item_name: str
    eligible: bool
    conditions: list[Condition]
    message: str


@dataclass(frozen=True)
class ApplicationAgent:
    """Who submitted on the resident's behalf (代办), as the platform shows it: masked."""

    name_masked: str
    id_number_masked: str
    relation: str | None
    relation_label: str


@dataclass(frozen=True)
class MyApplication:
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
    agent: ApplicationAgent | None = None  # 代办人, masked by the platform
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class MyApplications:
    items: list[MyApplication]


@dataclass(frozen=True)
class PersonHeader:
    name_masked: str
    id_number_masked: str


@dataclass(frozen=True)
class Contribution:
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


@dataclass(frozen=True)
class Payment:
    period: str
    amount: Decimal
    status: str  # paid / failed / pending
    status_label: str
    failure_reason: str
    bank: str
    account_tail_masked: str
    paid_on: dt.date | None
    components: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class EnterprisePensionStatus:
    person: PersonHeader
    insured_status: str
    insured_status_label: str
    insured_since: dt.date | None
    months_on_record: int
    total_paid: Decimal
    contributions: list[Contribution]


@dataclass(frozen=True)
class PaymentRecords:
    person: PersonHeader
    scheme: str
    receiving: bool
    payments: list[Payment]
    failed_count: int
    message: str


@dataclass(frozen=True)
class ResidentContributions:
    person: PersonHeader
    enrolled_basic: bool
    enrolled_supplementary: bool
    contribution_years: int
    contributions: list[Contribution]


@dataclass(frozen=True)
class Certificate:
    person: PersonHeader
    cert_no: str
    issued_on: dt.date
    issuer: str
    status: str
    employment_state: str


@dataclass(frozen=True)
class ArchiveLocation:
    person: PersonHeader
    agency_name: str
    address: str
    phone: str
    hours: str
    received_on: dt.date


@dataclass(frozen=True)
class PolicySummary:
    id: int
    title: str
    doc_no: str
    issuer: str
    published_on: dt.date
    category: str
    summary: str


@dataclass(frozen=True)
class Policy(PolicySummary):
    body: str = ""


@dataclass(frozen=True)
class PolicyPage:
    page: int
    page_size: int
    total: int
    items: list[PolicySummary]


@dataclass(frozen=True)
class JobFair:
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


@dataclass(frozen=True)
class JobFairs:
    items: list[JobFair]


@dataclass(frozen=True)
class ArchiveAgency:
    id: int
    name: str
    address: str
    phone: str
    hours: str
    scope: str


@dataclass(frozen=True)
class ArchiveAgencies:
    items: list[ArchiveAgency]


@dataclass(frozen=True)
class OperatorSignin:
    account: str
    name_masked: str
    role: str
    status: str  # active / locked / cancelled
    region: str
    message: str


@dataclass(frozen=True)
class IdentityGrant:
    """An identity token the platform issued (send it as X-Identity-Token); the token and the
    session reference are credentials, hidden from ``repr``."""

    token: str = field(repr=False)
    expires_at: dt.datetime
    session_ref: str = field(repr=False)
    submission_key: str | None = None


@dataclass(frozen=True)
class AuditHead:
    """A head of this kiosk's audit log as the platform received it."""

    seq: int
    hash: str
    received_at: dt.datetime
    regression: bool


@dataclass(frozen=True)
class AuditHeads:
    heads: list[AuditHead]


@dataclass(frozen=True)
class RosterAccount:
    account: str
    name_masked: str
    role: str  # operator / vendor / system_admin / business_admin
    status: str  # active / locked / cancelled


@dataclass(frozen=True)
class OperatorRoster:
    region_code: str
    generated_at: dt.datetime
    operators: list[RosterAccount]


@dataclass(frozen=True)
class ResidentIdentity:
    """A resident identified by e-SSC QR: personal data, keep only for the session.

    Every field is hidden from ``repr`` (tracebacks and logs must not carry it).
    """

    id_number: str = field(repr=False)
    name: str = field(repr=False)
    gender: str = field(repr=False)
    birth_date: dt.date = field(repr=False)
    identity: IdentityGrant = field(repr=False)


@dataclass(frozen=True)
class Ticket:
    """A ticket of this kiosk in the 问题台账 (answers: kiosk.services.problem_reports)."""

    id: int
    number: str
    client_ref: str
    kiosk_id: str
    category: str
    kind: str
    fault_key: str
    description: str
    suggestion: str
    state: str
    state_label: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    resolution: str


@dataclass(frozen=True)
class HelpAck:
    id: int
    created_at: dt.datetime
    message: str


# --- the parser ----------------------------------------------------------------------------------


def parse(cls: type[T], data: Any) -> T:
    """Build *cls* from decoded JSON; raises BackendProtocolError naming the bad field."""
    return _value(cls, data, cls.__name__)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _fail(where: str, expected: str) -> BackendProtocolError:
    return BackendProtocolError(code=f"bad_field:{where}:{expected}"[:64])


def _value(hint: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if data is None:
            return None
        return _value(args[0], data, where)
    if dataclasses.is_dataclass(hint):
        if not isinstance(data, dict):
            raise _fail(where, "object")
        values = {}
        for f in dataclasses.fields(hint):
            if f.name in data:
                values[f.name] = _value(_hints(hint)[f.name], data[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise _fail(f"{where}.{f.name}", "missing")
        return hint(**values)
    if origin is list:
        if not isinstance(data, list):
            raise _fail(where, "list")
        (item,) = typing.get_args(hint) or (Any,)
        return [_value(item, x, f"{where}[]") for x in data]
    if origin is dict or hint is Any:
        if origin is dict and not isinstance(data, dict):
            raise _fail(where, "object")
        return data
    return _scalar(hint, data, where)


def _scalar(hint: Any, data: Any, where: str) -> Any:
    if hint is bool:
        if isinstance(data, bool):
            return data
    elif data is not None and not isinstance(data, bool) and hint in _SCALARS:
        try:
            value = _SCALARS[hint](data)
        except (TypeError, ValueError, InvalidOperation):
            value = None
        if value is not None:
            return value
    raise _fail(where, getattr(hint, "__name__", str(hint)))


def _exact(kind: type) -> Any:
    def convert(data: Any) -> Any:
        return data if isinstance(data, kind) else None

    return convert


def _iso_datetime(data: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(data.replace("Z", "+00:00")) if isinstance(data, str) else None


def _iso_date(data: Any) -> dt.date | None:
    return dt.date.fromisoformat(data) if isinstance(data, str) else None


def _decimal(data: Any) -> Decimal | None:
    return Decimal(str(data)) if isinstance(data, str | int | float) else None


def _number(data: Any) -> float | None:
    return float(data) if isinstance(data, int | float) else None


_SCALARS: dict[Any, Any] = {
    int: _exact(int),
    str: _exact(str),
    float: _number,
    Decimal: _decimal,
    dt.datetime: _iso_datetime,
    dt.date: _iso_date,
}
