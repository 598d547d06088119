"""The lifecycle of a staff account (附件3) in a database session: create, change role and
grants, freeze, unlock, reset credentials, cancel, the idle lock — each with its audit entry.

Callers pass the acting :class:`Actor` and ``now``; the functions check the rules
(:mod:`kiosk_backend.staff.rules`, :mod:`kiosk.domain.roles`), change the row, add the audit
entry and flush; the caller commits. Errors are :class:`AccountRuleError` (Chinese message).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.domain.roles import ADMIN_ROLES, Permission, Role, RoleConflict, check_role_assignment
from kiosk_backend import audit_trail
from kiosk_backend.models import Operator
from kiosk_backend.staff import credentials
from kiosk_backend.staff.rules import (
    AccountRuleError,
    check_account_name,
    check_grants,
    check_real_name,
    check_region_code,
    holds,
    is_idle,
    may_manage,
)

DEFAULT_TZ = "Asia/Shanghai"


@dataclass(frozen=True)
class Actor:
    """Who acts: a console account, the command line (root on the server: no region rule), or
    the scheduled job."""

    account: str
    role: str = ""
    region_code: str = ""
    id_number: str = field(default="", repr=False)
    grants: tuple[str, ...] = ()
    trusted: bool = False  # CLI / scheduled job

    @classmethod
    def of(cls, operator: Operator) -> Actor:
        return cls(
            account=operator.account,
            role=operator.role,
            region_code=operator.region_code,
            id_number=operator.id_number,
            grants=tuple(operator.grants or ()),
        )

    @classmethod
    def command_line(cls) -> Actor:
        return cls(account=audit_trail.CLI_ACTOR, trusted=True)

    @classmethod
    def scheduler(cls) -> Actor:
        return cls(account=audit_trail.SYSTEM_ACTOR, trusted=True)

    def may(self, permission: Permission) -> bool:
        return self.trusted or holds(self.role, list(self.grants), permission)


@dataclass(frozen=True)
class AccountSpec:
    """A new account as written on the 用户申请（变更）单."""

    account: str
    name: str
    id_number: str = field(repr=False)
    phone: str = field(repr=False)
    role: str
    region: str
    region_code: str
    title: str = ""
    grants: tuple[str, ...] = ()


def local_date(moment: dt.datetime, tz: str = DEFAULT_TZ) -> dt.date:
    return moment.astimezone(ZoneInfo(tz)).date()


def last_active(operator: Operator, tz: str = DEFAULT_TZ) -> dt.date:
    """The local date the idle lock counts from: the last sign-in or, if none, the creation —
    or the last unlock when that is later (an unlocked account starts a fresh 3 months)."""
    moments = [operator.last_signin_at or operator.created_at, operator.reactivated_at]
    return local_date(max(m for m in moments if m is not None), tz)


def snapshot(operator: Operator) -> dict:
    """The account's fields as the audit trail keeps them (masked by audit_trail)."""
    return {
        "name": operator.name,
        "id_number": operator.id_number,
        "phone": operator.phone,
        "role": operator.role,
        "grants": list(operator.grants or []),
        "status": operator.status,
        "lock_reason": operator.lock_reason,
        "region": operator.region,
        "region_code": operator.region_code,
        "title": operator.title,
    }


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    operator: Operator,
    before,
    note: str = "",
    at: dt.datetime | None = None,
):
    audit_trail.record(
        session,
        actor=actor.account,
        action=action,
        target_kind="account",
        target=operator.account,
        region_code=operator.region_code,
        before=before,
        after=snapshot(operator),
        note=note,
        at=at,
    )


def _require_manager(actor: Actor, role: str, region_code: str, subject_id_number: str) -> None:
    if actor.trusted:
        return
    if not actor.may(Permission.MANAGE_ACCOUNTS):
        raise AccountRuleError("只有系统管理员可以创建和变更账号")
    if subject_id_number and subject_id_number == actor.id_number:
        raise AccountRuleError("不能办理本人账号的变更")
    if not may_manage(actor.region_code, Role(role), region_code):
        raise AccountRuleError("该账号不在您的管理范围内（管理员账号由上一级创建和变更）")


def _check_person_roles(session: Session, id_number: str, role: str, except_account: str) -> None:
    """One person never holds both admin roles, nor an admin role with business duties."""
    held = session.scalars(
        select(Operator.role).where(
            Operator.id_number == id_number,
            Operator.status != "cancelled",
            Operator.account != except_account,
        )
    ).all()
    try:
        check_role_assignment([Role(r) for r in (*held, role)])
    except RoleConflict as exc:
        raise AccountRuleError(f"{exc}（同一人已有其他账号）", "role") from None


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise AccountRuleError("角色不正确", "role") from None


def create_account(
    session: Session, spec: AccountSpec, *, actor: Actor, now: dt.datetime, note: str = ""
) -> tuple[Operator, credentials.OneTimeCredentials]:
    """Create the account with fresh one-time credentials (TOTP for administrators)."""
    account = check_account_name(spec.account)
    role = _role(spec.role)
    region_code = check_region_code(spec.region_code)
    name, id_number, phone = check_real_name(spec.name, spec.id_number, spec.phone)
    _require_manager(actor, role, region_code, id_number)
    grants = check_grants(role, list(spec.grants))
    if session.get(Operator, account) is not None:
        raise AccountRuleError("该登录账号已存在", "account")
    _check_person_roles(session, id_number, role, account)
    handed, password_hash, totp_secret = credentials.issue(account, with_totp=role in ADMIN_ROLES)
    operator = Operator(
        account=account,
        name=name,
        id_number=id_number,
        phone=phone,
        role=role.value,
        status="active",
        lock_reason="",
        region=spec.region.strip()[:100],
        region_code=region_code,
        title=spec.title.strip()[:50],
        grants=grants,
        # An e-SSC binding nobody can guess until the platform issues the holder a code.
        essc_qr=f"ESSC-UNBOUND-{secrets.token_urlsafe(24)}",
        created_at=now,
        last_signin_at=None,
        password_hash=password_hash,
        totp_secret=totp_secret,
        password_must_change=True,
    )
    session.add(operator)
    session.flush()
    _audit(session, actor, "account.create", operator, {}, note, now)
    return operator, handed


def change_role(
    session: Session,
    operator: Operator,
    role: str,
    grants: list[str],
    *,
    actor: Actor,
    now: dt.datetime,
    note: str = "",
) -> str | None:
    """Change the account's role and console duties (least privilege, no self-grant). Returns
    a new TOTP secret when the account becomes an administrator without one (hand it over)."""
    new_role = _role(role)
    _require_manager(actor, new_role, operator.region_code, operator.id_number)
    _require_manager(actor, _role(operator.role), operator.region_code, operator.id_number)
    checked = check_grants(new_role, grants)
    _live(operator)
    _check_person_roles(session, operator.id_number, new_role, operator.account)
    before = snapshot(operator)
    had_totp = bool(operator.totp_secret)
    operator.role = new_role.value
    operator.grants = checked
    handed = None
    if new_role in ADMIN_ROLES and not had_totp:
        operator.totp_secret = credentials.new_totp_secret()
        handed = operator.totp_secret
    _audit(session, actor, "account.change_role", operator, before, note, now)
    session.flush()
    return handed


def _live(operator: Operator) -> None:
    if operator.status == "cancelled":
        raise AccountRuleError("账号已注销，不能再变更")


def freeze(
    session: Session, operator: Operator, reason: str, *, actor: Actor, now: dt.datetime
) -> None:
    """冻结: at once (e.g. a leaked account); the account stays locked until unlocked."""
    if not reason.strip():
        raise AccountRuleError("请填写冻结原因", "reason")
    _require_manager(actor, _role(operator.role), operator.region_code, operator.id_number)
    _live(operator)
    before = snapshot(operator)
    operator.status = "locked"
    operator.lock_reason = "frozen"
    _end_sessions(session, operator.account)
    _audit(session, actor, "account.freeze", operator, before, reason.strip(), now)
    session.flush()


def unlock(
    session: Session, operator: Operator, *, actor: Actor, now: dt.datetime, note: str = ""
) -> None:
    """解锁: back to active; an idle-locked account counts as active from now (else the next
    check would lock it again at once)."""
    _require_manager(actor, _role(operator.role), operator.region_code, operator.id_number)
    _live(operator)
    if operator.status != "locked":
        raise AccountRuleError("账号未锁定")
    before = snapshot(operator)
    operator.status = "active"
    operator.lock_reason = ""
    operator.reactivated_at = now
    _audit(session, actor, "account.unlock", operator, before, note, now)
    session.flush()


def reset(
    session: Session, operator: Operator, *, actor: Actor, now: dt.datetime, note: str = ""
) -> credentials.OneTimeCredentials:
    """重置: new initial password (to be changed at first sign-in), new TOTP secret for
    administrators; every open console session of the account ends."""
    _require_manager(actor, _role(operator.role), operator.region_code, operator.id_number)
    _live(operator)
    before = snapshot(operator)
    handed, password_hash, totp_secret = credentials.issue(
        operator.account, with_totp=Role(operator.role) in ADMIN_ROLES
    )
    operator.password_hash = password_hash
    operator.totp_secret = totp_secret
    operator.password_must_change = True
    _end_sessions(session, operator.account)
    _audit(session, actor, "account.reset", operator, before, note, now)
    session.flush()
    return handed


def cancel(
    session: Session, operator: Operator, reason: str, *, actor: Actor, now: dt.datetime
) -> None:
    """注销 (未在岗、离岗): final; the row stays for the audit trail."""
    _require_manager(actor, _role(operator.role), operator.region_code, operator.id_number)
    _live(operator)
    before = snapshot(operator)
    operator.status = "cancelled"
    operator.lock_reason = ""
    operator.password_hash = ""
    operator.totp_secret = ""
    _end_sessions(session, operator.account)
    _audit(session, actor, "account.cancel", operator, before, reason.strip(), now)
    session.flush()


def _end_sessions(session: Session, account: str) -> None:
    from kiosk_backend.staff_models import ConsoleSession

    for row in session.scalars(select(ConsoleSession).where(ConsoleSession.account == account)):
        session.delete(row)


# --- the idle lock ------------------------------------------------------------------------------


def lock_if_idle(
    session: Session, operator: Operator, as_of: dt.date, *, actor: Actor, tz: str = DEFAULT_TZ
) -> bool:
    """Lock an active account idle for more than 3 months as of *as_of*; True if it was."""
    if operator.status != "active" or not is_idle(last_active(operator, tz), as_of):
        return False
    before = snapshot(operator)
    operator.status = "locked"
    operator.lock_reason = "idle"
    _end_sessions(session, operator.account)
    _audit(
        session,
        actor,
        "account.lock_idle",
        operator,
        before,
        f"最后登录或创建于 {last_active(operator, tz).isoformat()}，核查日 {as_of.isoformat()}",
    )
    return True


def lock_idle(session: Session, as_of: dt.date, *, actor: Actor, tz: str = DEFAULT_TZ) -> list[str]:
    """The scheduled job (and ``kiosk backend staff lock-idle``): lock every idle account; return
    the accounts locked, sorted (caller commits)."""
    locked = [
        operator.account
        for operator in session.scalars(
            select(Operator).where(Operator.status == "active").order_by(Operator.account)
        ).all()
        if lock_if_idle(session, operator, as_of, actor=actor, tz=tz)
    ]
    session.flush()
    return locked


def check_at_signin(
    session: Session, operator: Operator, now: dt.datetime, tz: str = DEFAULT_TZ
) -> str:
    """Apply the idle lock at a sign-in (kiosk or console); record the sign-in when the account
    may sign in. Returns the account's status afterwards (caller commits)."""
    if operator.status == "active":
        if lock_if_idle(session, operator, local_date(now, tz), actor=Actor.scheduler(), tz=tz):
            return operator.status
        operator.last_signin_at = now
    return operator.status


def find(session: Session, account: str) -> Operator | None:
    return session.get(Operator, account.strip().lower()) if account else None
