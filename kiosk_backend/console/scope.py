"""Region scoping: every console query starts from one of these, so a user only ever reads or
changes what lies in their region (``operators.region_code`` as a prefix) — enforced on the
server for each query, whatever links a page shows. An account with no region sees nothing.

Applications and help requests belong to the region of the kiosk they came from; tickets carry
the region they were routed by; accounts, account requests and audit entries carry their own.
"""

from __future__ import annotations

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session

from kiosk_backend.ledger_models import LedgerTicket
from kiosk_backend.models import PRINCIPAL_KIOSK, Application, HelpRequest, Kiosk, Operator
from kiosk_backend.staff_models import AccountRequest, AuditEntry

# Counting stops here: a list says "10000+" rather than scan every row of a large table on each
# page load (the work queue needs the first pages and the filters, not an exact grand total).
COUNT_CAP = 10_000

# Applications worked at the counter or in the back office: pre-applications of the 18 counter
# items (work orders) and the kiosk's applications with a time limit (10, 11, 22, 23).
QUEUE_ITEMS = (10, 11, 22, 23)


def _prefix(column, region_code: str):
    if not region_code:
        return false()
    return column.startswith(region_code, autoescape=True)


def kiosk_ids(region_code: str) -> Select:
    return select(Kiosk.id).where(
        Kiosk.kind == PRINCIPAL_KIOSK, _prefix(Kiosk.region_code, region_code)
    )


def kiosks(region_code: str) -> Select:
    return select(Kiosk).where(
        Kiosk.kind == PRINCIPAL_KIOSK, _prefix(Kiosk.region_code, region_code)
    )


def queue_applications(region_code: str) -> Select:
    return select(Application).where(
        Application.kiosk_id.in_(kiosk_ids(region_code)),
        or_(Application.kind == "work_order", Application.item_no.in_(QUEUE_ITEMS)),
    )


def tickets(region_code: str) -> Select:
    return select(LedgerTicket).where(_prefix(LedgerTicket.region_code, region_code))


def help_requests(region_code: str) -> Select:
    return select(HelpRequest).where(HelpRequest.kiosk_id.in_(kiosk_ids(region_code)))


def accounts(region_code: str) -> Select:
    return select(Operator).where(_prefix(Operator.region_code, region_code))


def account_requests(region_code: str) -> Select:
    return select(AccountRequest).where(_prefix(AccountRequest.region_code, region_code))


def audit_entries(region_code: str) -> Select:
    return select(AuditEntry).where(_prefix(AuditEntry.region_code, region_code))


def bounded_count(db: Session, query: Select, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows *query* has, up to *cap*; and whether there are more than that."""
    counted = db.scalar(
        select(func.count()).select_from(query.order_by(None).limit(cap + 1).subquery())
    )
    counted = counted or 0
    return min(counted, cap), counted > cap
