"""每月核查 (附件3: 县级人社部门应至少每月进行一次账号状态核查): the list of every account of a
region with its role, duties, status, last sign-in, idle days and the month's changes — signed
off by a 业务管理员 and then kept as signed (``account_reviews.rows``), never recomputed.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.domain.roles import Permission, Role
from kiosk_backend import audit_trail
from kiosk_backend.identity import mask_id_number, mask_phone
from kiosk_backend.models import Operator
from kiosk_backend.staff.accounts import DEFAULT_TZ, Actor, last_active, local_date
from kiosk_backend.staff.rules import (
    LOCK_REASON_LABELS,
    STATUS_LABELS,
    AccountRuleError,
    idle_days,
    idle_lock_due,
)
from kiosk_backend.staff_models import AccountReview, AuditEntry

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# Idle this long and not yet locked: the reviewer should ask whether the account is still needed.
WATCH_IDLE_DAYS = 60


def parse_month(text: str) -> tuple[dt.date, dt.date]:
    """First and last local day of a ``YYYY-MM`` month (AccountRuleError otherwise)."""
    match = _MONTH_RE.match(text)
    if not match:
        raise AccountRuleError("月份格式应为 2027-02", "month")
    year, month = int(match.group(1)), int(match.group(2))
    first = dt.date(year, month, 1)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def _utc_bounds(first: dt.date, last: dt.date, tz: str) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(first, dt.time(0), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), zone).astimezone(dt.UTC)
    return start, end


def review_rows(
    session: Session, region_code: str, month: str, as_of: dt.date, tz: str = DEFAULT_TZ
) -> list[dict]:
    """One row per account of the region (cancelled ones included while they changed in the
    month), as plain data. Idle days are counted to *as_of* (or the month's last day if that
    is earlier); ID numbers and phones are masked."""
    first, last = parse_month(month)
    counted_to = min(as_of, last)
    start, end = _utc_bounds(first, last, tz)
    operators = session.scalars(
        select(Operator)
        .where(Operator.region_code.startswith(region_code, autoescape=True))
        .order_by(Operator.region_code, Operator.account)
    ).all()
    changes: dict[str, list[str]] = {}
    for entry in session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.target_kind == "account",
            AuditEntry.region_code.startswith(region_code, autoescape=True),
            AuditEntry.at >= start,
            AuditEntry.at < end,
        )
        .order_by(AuditEntry.id)
    ):
        label = audit_trail.ACTION_LABELS.get(entry.action, entry.action)
        changes.setdefault(entry.target, []).append(
            f"{local_date(entry.at, tz):%m-%d} {label}（{entry.actor}）"
        )
    rows = []
    for operator in operators:
        if operator.status == "cancelled" and operator.account not in changes:
            continue
        if local_date(operator.created_at, tz) > last:
            continue
        active_on = last_active(operator, tz)
        days = idle_days(active_on, counted_to)
        rows.append(
            {
                "account": operator.account,
                "name": operator.name,
                "id_number": mask_id_number(operator.id_number),
                "phone": mask_phone(operator.phone),
                "role": Role(operator.role).label,
                "duties": [Permission[g].label for g in operator.grants or []],
                "region": operator.region,
                "region_code": operator.region_code,
                "status": STATUS_LABELS.get(operator.status, operator.status),
                "lock_reason": LOCK_REASON_LABELS.get(operator.lock_reason, ""),
                "last_signin": (
                    local_date(operator.last_signin_at, tz).isoformat()
                    if operator.last_signin_at
                    else ""
                ),
                "idle_days": days,
                "idle_lock_on": idle_lock_due(active_on).isoformat(),
                "attention": operator.status == "active" and days >= WATCH_IDLE_DAYS,
                "changes": changes.get(operator.account, []),
            }
        )
    return rows


def signed_review(session: Session, region_code: str, month: str) -> AccountReview | None:
    return session.scalar(
        select(AccountReview).where(
            AccountReview.month == month, AccountReview.region_code == region_code
        )
    )


def sign_off(
    session: Session,
    *,
    actor: Actor,
    actor_name: str,
    region_code: str,
    month: str,
    note: str,
    now: dt.datetime,
    tz: str = DEFAULT_TZ,
) -> AccountReview:
    """Sign the month's review for the region and keep the list as signed (caller commits)."""
    if not actor.may(Permission.REVIEW_ACCOUNTS):
        raise AccountRuleError("只有业务管理员可以签署每月核查")
    first, _last = parse_month(month)
    today = local_date(now, tz)
    if first > today:
        raise AccountRuleError("不能核查尚未开始的月份", "month")
    if signed_review(session, region_code, month) is not None:
        raise AccountRuleError(f"{month} 的核查已签署")
    review = AccountReview(
        month=month,
        region_code=region_code,
        signed_by=actor.account,
        signed_by_name=actor_name,
        signed_at=now,
        note=note.strip()[:2000],
        rows=review_rows(session, region_code, month, today, tz),
    )
    session.add(review)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AccountRuleError(f"{month} 的核查已签署") from None
    audit_trail.record(
        session,
        actor=actor.account,
        action="review.sign",
        target_kind="review",
        target=f"{region_code}:{month}",
        region_code=region_code,
        after={"accounts": len(review.rows)},
        note=review.note,
        at=now,
    )
    return review
