"""附件3's account rules, pure (no I/O): idle lock, who may manage whom, least-privilege grants,
real-name checks. Dates are the county's local dates.

- Idle lock: an account that has not signed in for more than 3 calendar months — counted from its
  last sign-in or, if it never signed in, from its creation — is locked (信息系统将对超期3个月
  未登录信息系统的帐号进行锁定). Created 2026-12-01 → still usable on 2027-03-01, locked from
  2027-03-02 on.
- Levels: a region code of 2 digits is a province, 4 a city, 6 or more a county (or below).
  省级系统管理员 creates county 系统管理员 / 业务管理员 accounts; 县级系统管理员 creates the
  operator accounts of its county: :func:`may_manage`.
- Grants: the console duties an account holds are chosen by the 业务管理员 within what the role
  allows in :mod:`kiosk.domain.roles` (administrators hold no business operation).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from kiosk.domain.roles import ADMIN_ROLES, Permission, Role, permissions_of
from kiosk_backend.identity import InvalidIdNumber, is_valid_phone, normalize_id_number

IDLE_MONTHS = 3

# The console's duties (Permission names), in menu order.
CONSOLE_DUTIES: tuple[Permission, ...] = (
    Permission.HANDLE_APPLICATIONS,
    Permission.ANSWER_TICKETS,
    Permission.WATCH_HELP_REQUESTS,
    Permission.VIEW_FLEET,
)

STATUS_LABELS = {"active": "正常", "locked": "已锁定", "cancelled": "已注销"}
LOCK_REASON_LABELS = {"idle": "超过3个月未登录", "frozen": "已冻结", "": ""}
LEVEL_LABELS = {"province": "省级", "city": "市级", "county": "县级"}

_ACCOUNT_RE = re.compile(r"^[a-z][a-z0-9_.-]{2,39}$")
_REGION_RE = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$")
_NAME_RE = re.compile(r"^[\u4e00-\u9fff·]{2,20}$")


class AccountRuleError(ValueError):
    """An account change breaks a rule of 附件3; ``str(exc)`` is Chinese, fit for the page.
    ``field`` names the form field at fault, when there is one."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


# --- idle lock ----------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """*day* moved by whole calendar months, clamped to the month's end (11-30 + 3 → 02-28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def idle_lock_due(last_active: dt.date) -> dt.date:
    """The first day on which an account last active on *last_active* counts as idle."""
    return add_months(last_active, IDLE_MONTHS) + dt.timedelta(days=1)


def is_idle(last_active: dt.date, as_of: dt.date) -> bool:
    return as_of >= idle_lock_due(last_active)


def idle_days(last_active: dt.date, as_of: dt.date) -> int:
    return max(0, (as_of - last_active).days)


# --- levels and who manages whom ---------------------------------------------------------------


def check_region_code(code: str) -> str:
    if not _REGION_RE.match(code):
        raise AccountRuleError("辖区代码应为2、4、6、9或12位数字（如 140431）", "region_code")
    return code


def level_of(region_code: str) -> str:
    """province / city / county for a region code (2 / 4 / 6+ digits)."""
    if len(region_code) <= 2:
        return "province"
    if len(region_code) <= 4:
        return "city"
    return "county"


def covers(actor_region: str, target_region: str) -> bool:
    """Whether an account working in *actor_region* may see *target_region* (prefix). An empty
    actor region sees nothing: a region must be set before anything is shown."""
    return bool(actor_region) and target_region.startswith(actor_region)


def may_manage(actor_region: str, target_role: Role, target_region: str) -> bool:
    """附件3: an administrator manages accounts of its region; administrator accounts only from a
    higher level (省级 creates 县级 管理员, 县级 creates 业务操作员)."""
    if not covers(actor_region, target_region):
        return False
    if target_role in ADMIN_ROLES:
        return len(actor_region) < len(target_region)
    return True


# --- grants -----------------------------------------------------------------------------------


def grantable(role: Role) -> tuple[Permission, ...]:
    """The console duties *role* may be granted (least privilege from kiosk.domain.roles)."""
    held = permissions_of(role)
    return tuple(p for p in CONSOLE_DUTIES if p in held)


def check_grants(role: Role, names: list[str]) -> list[str]:
    """*names* as a sorted list of duty names, each one grantable to *role*."""
    allowed = {p.name for p in grantable(role)}
    unknown = [n for n in names if n not in allowed]
    if unknown:
        labels = "、".join(
            Permission[n].label if n in Permission.__members__ else n for n in unknown
        )
        raise AccountRuleError(f"{role.label}不能被授予：{labels}", "grants")
    return sorted(set(names), key=[p.name for p in CONSOLE_DUTIES].index)


def holds(role: str, grants: list[str], permission: Permission) -> bool:
    """Whether an account with *role* and *grants* may do *permission* in the console: the role
    must allow it, and console duties must also have been granted."""
    try:
        held = permissions_of(Role(role))
    except ValueError:
        return False
    if permission not in held:
        return False
    return permission not in CONSOLE_DUTIES or permission.name in grants


# --- real names -------------------------------------------------------------------------------


def check_account_name(account: str) -> str:
    if not _ACCOUNT_RE.match(account):
        raise AccountRuleError("登录账号应为3~40位小写字母、数字或 . _ -，以字母开头", "account")
    return account


def check_real_name(name: str, id_number: str, phone: str) -> tuple[str, str, str]:
    """附件3 实名制: name, ID number and phone are all required and valid; returns them
    normalised (18-character ID number)."""
    name = name.strip()
    if not _NAME_RE.match(name):
        raise AccountRuleError("请填写使用人的真实姓名（2~20个汉字）", "name")
    try:
        number = normalize_id_number(id_number.strip())
    except InvalidIdNumber as exc:
        raise AccountRuleError(f"身份证号码有误：{exc}", "id_number") from None
    phone = phone.strip()
    if not is_valid_phone(phone):
        raise AccountRuleError("联系电话应为11位手机号码或带区号的固定电话", "phone")
    return name, number, phone
