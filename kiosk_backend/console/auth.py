"""Console sign-in sessions: the cookie, CSRF tokens, the 15-minute idle sign-out and the limit on
failed sign-ins — all state in the database (several workers, restarts).

- The session cookie holds a random token; only its SHA-256 is stored (``console_sessions``).
  It is HttpOnly, SameSite=Strict, Path=/console, and Secure unless the console is reached on
  localhost. Nothing else identifies a console user: a kiosk's HMAC headers open nothing here,
  and the cookie never reaches ``/api/v1`` (its path), where the signing middleware would refuse
  it anyway.
- Every POST carries the session's CSRF token (``csrf`` form field), compared in constant time;
  the sign-in forms, before any session exists, carry a pre-session token from their own
  cookie (double submit). :func:`checked_form` is the one way console routes read a POST.
- Idle: a session unused for :data:`IDLE_MINUTES` is deleted at its next request (the page's own
  countdown signs out at the same moment). Requests that only poll (the help queue refreshing
  itself) do not count as use.
- Failed sign-ins: :class:`Throttle` counts failures per account and per client address in a
  window and refuses further tries for a while once a limit is reached.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kiosk.domain.roles import Permission
from kiosk_backend.deps import db_session
from kiosk_backend.models import Operator
from kiosk_backend.staff.accounts import Actor
from kiosk_backend.staff.rules import holds
from kiosk_backend.staff_models import ConsoleSession, SigninThrottle

COOKIE = "jjb_console"
PRE_COOKIE = "jjb_console_pre"
COOKIE_PATH = "/console"
IDLE_MINUTES = 15
TOUCH_EVERY = dt.timedelta(seconds=30)
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

ACCOUNT_FAILURES = 5
CLIENT_FAILURES = 20
FAILURE_WINDOW = dt.timedelta(minutes=15)
BLOCK_FOR = dt.timedelta(minutes=15)


class SignInRequired(Exception):
    """No valid session: send the browser to the sign-in page (``reason`` shown there)."""

    def __init__(self, reason: str = ""):
        super().__init__(reason)
        self.reason = reason


class PasswordChangeRequired(Exception):
    """Signed in with an initial password: it must be changed before anything else."""


class Forbidden(Exception):
    """The signed-in account may not do this (Chinese message for the page)."""


class CsrfRejected(Exception):
    """A POST without the right CSRF token."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def secure_cookie(request: Request) -> bool:
    """Secure everywhere except on the machine itself (a county PC on http://localhost)."""
    return (request.url.hostname or "") not in LOCAL_HOSTS


def set_cookie(response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=secure_cookie(request),
        path=COOKIE_PATH,
    )


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Viewer:
    """The signed-in console user of one request."""

    operator: Operator
    row: ConsoleSession
    db: Session

    @property
    def account(self) -> str:
        return self.operator.account

    @property
    def csrf(self) -> str:
        return self.row.csrf_token

    @property
    def region_code(self) -> str:
        return self.operator.region_code

    @property
    def actor(self) -> Actor:
        return Actor.of(self.operator)

    def may(self, permission: Permission) -> bool:
        return holds(self.operator.role, list(self.operator.grants or []), permission)

    def require(self, permission: Permission) -> None:
        if not self.may(permission):
            raise Forbidden(f"您的账号没有“{permission.label}”权限")


def start_session(db: Session, operator: Operator, method: str, now: dt.datetime) -> str:
    """Create a session for *operator*; return the cookie token (caller commits)."""
    token = secrets.token_urlsafe(32)
    db.add(
        ConsoleSession(
            token_hash=token_hash(token),
            account=operator.account,
            csrf_token=secrets.token_urlsafe(32),
            method=method,
            created_at=now,
            last_seen_at=now,
        )
    )
    # Sessions idle past the limit are gone for good; purge them while we are here.
    db.execute(
        delete(ConsoleSession).where(
            ConsoleSession.last_seen_at < now - dt.timedelta(minutes=IDLE_MINUTES)
        )
    )
    return token


def end_session(db: Session, request: Request) -> ConsoleSession | None:
    token = request.cookies.get(COOKIE, "")
    row = db.get(ConsoleSession, token_hash(token)) if token else None
    if row is not None:
        db.delete(row)
    return row


def _resolve(request: Request, db: Session, *, touch: bool, allow_password_change: bool) -> Viewer:
    token = request.cookies.get(COOKIE, "")
    if not token:
        raise SignInRequired()
    row = db.get(ConsoleSession, token_hash(token))
    if row is None:
        raise SignInRequired("expired")
    now = now_utc()
    if now - row.last_seen_at > dt.timedelta(minutes=IDLE_MINUTES):
        db.delete(row)
        db.commit()
        raise SignInRequired("idle")
    operator = db.get(Operator, row.account)
    if operator is None or operator.status != "active":
        db.delete(row)
        db.commit()
        raise SignInRequired("locked")
    if operator.password_must_change and not allow_password_change:
        raise PasswordChangeRequired()
    if touch and now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now  # coarse on purpose: one write per half minute, not per page
        db.commit()
    return Viewer(operator=operator, row=row, db=db)


def viewer(request: Request, db: Annotated[Session, Depends(db_session)]) -> Viewer:
    """The signed-in user (dependency); every use counts as activity."""
    return _resolve(request, db, touch=True, allow_password_change=False)


def passive_viewer(request: Request, db: Annotated[Session, Depends(db_session)]) -> Viewer:
    """The signed-in user for a self-refreshing fragment: does not extend the session."""
    return _resolve(request, db, touch=False, allow_password_change=False)


def viewer_changing_password(
    request: Request, db: Annotated[Session, Depends(db_session)]
) -> Viewer:
    return _resolve(request, db, touch=True, allow_password_change=True)


def _same(sent: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


async def checked_form(request: Request, user: Annotated[Viewer, Depends(viewer)]) -> FormData:
    """The POSTed form of a signed-in user, after its CSRF token matched."""
    form = await request.form()
    if not _same(str(form.get("csrf", "")), user.csrf):
        raise CsrfRejected()
    return form


async def checked_form_changing_password(
    request: Request, user: Annotated[Viewer, Depends(viewer_changing_password)]
) -> FormData:
    form = await request.form()
    if not _same(str(form.get("csrf", "")), user.csrf):
        raise CsrfRejected()
    return form


async def checked_signin_form(request: Request) -> FormData:
    """A sign-in form: its token must match the pre-session cookie (double submit)."""
    form = await request.form()
    if not _same(str(form.get("csrf", "")), request.cookies.get(PRE_COOKIE, "")):
        raise CsrfRejected()
    return form


# --- failed sign-ins --------------------------------------------------------------------------


class Throttle:
    """Failed sign-ins per key (``account:…``, ``client:…``) in ``console_signin_throttle``."""

    def __init__(self, db: Session, now: dt.datetime):
        self.db = db
        self.now = now

    def blocked(self, *keys: str) -> bool:
        rows = self.db.scalars(select(SigninThrottle).where(SigninThrottle.key.in_(keys))).all()
        return any(r.blocked_until is not None and r.blocked_until > self.now for r in rows)

    def fail(self, key: str, limit: int) -> None:
        row = self.db.get(SigninThrottle, key)
        if row is None:
            row = SigninThrottle(key=key, failures=0, window_start=self.now)
            self.db.add(row)
        if self.now - row.window_start > FAILURE_WINDOW:
            row.failures, row.window_start = 0, self.now
        row.failures += 1
        if row.failures >= limit:
            row.blocked_until = self.now + BLOCK_FOR
            row.failures, row.window_start = 0, self.now

    def clear(self, key: str) -> None:
        row = self.db.get(SigninThrottle, key)
        if row is not None:
            self.db.delete(row)


def client_key(request: Request) -> str:
    return f"client:{request.client.host if request.client else 'unknown'}"


def account_key(login: str) -> str:
    return f"account:{login.strip().lower()[:80]}"


# Annotated dependencies for the routes.
Db = Annotated[Session, Depends(db_session)]
User = Annotated[Viewer, Depends(viewer)]
PassiveUser = Annotated[Viewer, Depends(passive_viewer)]
UserChangingPassword = Annotated[Viewer, Depends(viewer_changing_password)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
CheckedFormChangingPassword = Annotated[FormData, Depends(checked_form_changing_password)]
SigninForm = Annotated[FormData, Depends(checked_signin_form)]
