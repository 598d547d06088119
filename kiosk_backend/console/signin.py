"""Sign-in (e-SSC code, or login + password + TOTP for administrators), sign-out, password change.

Every failure answers the same words whatever failed (unknown code, wrong password, wrong TOTP),
counts against the client address and the account (:class:`~.auth.Throttle`), and lands in the
audit trail; a locked or cancelled account is told so only after its credentials were right.
The 3-month idle lock is applied here as at the kiosk (:func:`staff.accounts.check_at_signin`).
"""

from __future__ import annotations

import re
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from kiosk.domain.roles import ADMIN_ROLES, Role
from kiosk_backend import audit_trail
from kiosk_backend.console import auth
from kiosk_backend.console.auth import (
    ACCOUNT_FAILURES,
    CLIENT_FAILURES,
    COOKIE,
    PRE_COOKIE,
    Throttle,
    account_key,
    client_key,
)
from kiosk_backend.console.web import render
from kiosk_backend.essc_codes import operator_for_code
from kiosk_backend.models import Operator
from kiosk_backend.staff import credentials
from kiosk_backend.staff.accounts import check_at_signin

router = APIRouter()

_ACCOUNT_LIKE = re.compile(r"^[a-z][a-z0-9_.-]{2,39}$")

FAILED = "登录失败：登录码、账号、密码或动态验证码不正确"
BLOCKED = "登录失败次数过多，请15分钟后再试"
STATUS_REFUSALS = {
    "locked": "账号已锁定（超过3个月未登录或已被冻结），请联系县人社局系统管理员解锁",
    "cancelled": "账号已注销，不能登录",
}


def _signin_page(request: Request, *, error: str = "", reason: str = "", status: int = 200):
    token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request, "signin.html", None, error=error, reason=reason, csrf=token, status_code=status
    )
    auth.set_cookie(response, request, PRE_COOKIE, token)
    return response


@router.get("/signin")
def signin_page(request: Request, reason: str = ""):
    reason = reason if reason in ("idle", "expired", "signedout") else ""
    return _signin_page(request, reason=reason)


def _fail(request: Request, db: Session, throttle: Throttle, login: str, what: str):
    throttle.fail(client_key(request), CLIENT_FAILURES)
    if login:
        throttle.fail(account_key(login), ACCOUNT_FAILURES)
    audit_trail.record(
        db,
        # What was typed is kept only when it looks like an account name: a resident's ID
        # number typed into the wrong field must not land in the trail.
        actor=login if _ACCOUNT_LIKE.match(login) else "-",
        action="signin.failed",
        target_kind="signin",
        target=what,
        region_code="",
        note=client_key(request),
    )
    db.commit()
    return _signin_page(request, error=FAILED, status=401)


def _succeed(request: Request, db: Session, operator: Operator, method: str, throttle: Throttle):
    now = auth.now_utc()
    status = check_at_signin(db, operator, now)
    if status != "active":
        db.commit()
        return _signin_page(request, error=STATUS_REFUSALS[status], status=403)
    throttle.clear(account_key(operator.account))
    token = auth.start_session(db, operator, method, now)
    audit_trail.record(
        db,
        actor=operator.account,
        action="signin",
        target_kind="signin",
        target=method,
        region_code=operator.region_code,
        at=now,
    )
    db.commit()
    target = "/console/password" if operator.password_must_change else "/console/"
    response = RedirectResponse(target, status_code=303)
    auth.set_cookie(response, request, COOKIE, token)
    response.delete_cookie(PRE_COOKIE, path=auth.COOKIE_PATH)
    return response


@router.post("/signin/essc")
def signin_essc(
    request: Request,
    form: auth.SigninForm,
    db: auth.Db,
):
    throttle = Throttle(db, auth.now_utc())
    if throttle.blocked(client_key(request)):
        return _signin_page(request, error=BLOCKED, status=429)
    operator = operator_for_code(db, str(form.get("code", "")))
    if operator is None:
        return _fail(request, db, throttle, "", "essc")
    if throttle.blocked(account_key(operator.account)):
        return _signin_page(request, error=BLOCKED, status=429)
    return _succeed(request, db, operator, "essc", throttle)


@router.post("/signin/password")
def signin_password(
    request: Request,
    form: auth.SigninForm,
    db: auth.Db,
):
    login = str(form.get("login", "")).strip().lower()[:40]
    throttle = Throttle(db, auth.now_utc())
    if throttle.blocked(client_key(request), account_key(login)):
        return _signin_page(request, error=BLOCKED, status=429)
    operator = db.get(Operator, login) if login else None
    password_ok = credentials.verify_password(
        operator.password_hash if operator else "", str(form.get("password", ""))
    )
    if operator is None or not password_ok:
        return _fail(request, db, throttle, login, "password")
    if Role(operator.role) in ADMIN_ROLES and not credentials.totp_matches(
        operator.totp_secret, str(form.get("totp", "")), auth.now_utc()
    ):
        return _fail(request, db, throttle, login, "totp")
    return _succeed(request, db, operator, "password", throttle)


@router.post("/signout")
def signout(
    request: Request,
    _form: auth.CheckedFormChangingPassword,
    user: auth.UserChangingPassword,
):
    db = user.db
    auth.end_session(db, request)
    audit_trail.record(
        db,
        actor=user.account,
        action="signout",
        target_kind="signin",
        target="",
        region_code=user.region_code,
    )
    db.commit()
    response = RedirectResponse("/console/signin?reason=signedout", status_code=303)
    response.delete_cookie(COOKIE, path=auth.COOKIE_PATH)
    return response


@router.get("/password")
def password_page(request: Request, user: auth.UserChangingPassword):
    return render(request, "password.html", user, forced=user.operator.password_must_change)


@router.post("/password")
def change_password(
    request: Request,
    form: auth.CheckedFormChangingPassword,
    user: auth.UserChangingPassword,
):
    operator = user.operator
    current = str(form.get("current", ""))
    new = str(form.get("new", ""))
    error = ""
    if operator.password_hash and not credentials.verify_password(operator.password_hash, current):
        error = "当前密码不正确"
    elif new != str(form.get("repeat", "")):
        error = "两次输入的新密码不一致"
    elif new == current:
        error = "新密码不能与当前密码相同"
    else:
        error = credentials.password_problem(new)
    if error:
        forced = operator.password_must_change
        return render(request, "password.html", user, error=error, forced=forced, status_code=422)
    operator.password_hash = credentials.hash_password(new)
    operator.password_must_change = False
    audit_trail.record(
        user.db,
        actor=user.account,
        action="password.change",
        target_kind="account",
        target=user.account,
        region_code=user.region_code,
    )
    user.db.commit()
    return render(request, "password.html", user, flash="密码已修改", forced=False)
