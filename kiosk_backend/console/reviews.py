"""每月核查: one page per month listing every account of the region (roles, duties, status,
last sign-in, idle days, the month's changes), signed off by a 业务管理员 and then kept exactly
as signed (:mod:`kiosk_backend.staff.review`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from kiosk.domain.roles import Permission
from kiosk_backend.console.auth import CheckedForm, Forbidden, User, Viewer, now_utc
from kiosk_backend.console.web import render
from kiosk_backend.staff.accounts import local_date
from kiosk_backend.staff.review import review_rows, sign_off, signed_review
from kiosk_backend.staff.rules import AccountRuleError
from kiosk_backend.staff_models import AccountReview

router = APIRouter()

Month = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
READERS = (Permission.REVIEW_ACCOUNTS, Permission.MANAGE_ACCOUNTS)


def _require(user: Viewer) -> None:
    if not any(user.may(p) for p in READERS):
        raise Forbidden("您的账号不能查看账号核查")


def _months(today: dt.date, count: int = 12) -> list[str]:
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months


@router.get("/reviews")
def review_index(request: Request, user: User):
    _require(user)
    today = local_date(now_utc())
    signed = {
        r.month: r
        for r in user.db.scalars(
            select(AccountReview).where(AccountReview.region_code == user.region_code)
        )
    }
    return render(
        request,
        "reviews.html",
        user,
        active="reviews",
        title="每月核查",
        months=_months(today),
        signed=signed,
    )


def _page(request: Request, user: Viewer, month: str, **extra):
    today = local_date(now_utc())
    kept = signed_review(user.db, user.region_code, month)
    try:
        rows = kept.rows if kept else review_rows(user.db, user.region_code, month, today)
    except AccountRuleError as exc:
        raise Forbidden(str(exc)) from None
    return render(
        request,
        "review.html",
        user,
        active="reviews",
        title=f"{month} 账号核查",
        month=month,
        kept=kept,
        rows=rows,
        may_sign=user.may(Permission.REVIEW_ACCOUNTS) and kept is None,
        **extra,
    )


@router.get("/reviews/{month}")
def review_page(request: Request, month: Month, user: User):
    _require(user)
    return _page(request, user, month)


@router.post("/reviews/{month}/sign")
def sign(
    request: Request,
    month: Month,
    form: CheckedForm,
    user: User,
):
    _require(user)
    try:
        sign_off(
            user.db,
            actor=user.actor,
            actor_name=user.operator.name,
            region_code=user.region_code,
            month=month,
            note=str(form.get("note", "")),
            now=now_utc(),
        )
    except AccountRuleError as exc:
        user.db.rollback()
        return _page(request, user, month, error=str(exc))
    user.db.commit()
    return RedirectResponse(f"/console/reviews/{month}", status_code=303)
