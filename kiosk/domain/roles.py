"""Maintenance roles of 附件3 and what each may do on the kiosk, enforced in code.

Four roles, matching the backend's ``role`` strings:

* ``operator`` — 业务操作员: village/town staff who keep the kiosk running and help the resident
  in front of them (paper, print queue, outbox queue, reprint for the person present, fault
  reports, device health, logs, tickets).
* ``vendor`` — the vendor's engineer: hardware diagnostics only; no permission that can show a
  resident's data.
* ``system_admin`` — county 系统管理员: kiosk configuration, accounts, restart, exit to desktop.
* ``business_admin`` — county 业务管理员: role grants, approving account applications, the
  monthly account review.

The platform's web console adds duties (applications, tickets, help requests, fleet) that an
account holds only when its role allows them AND they were granted to it (``grants``).

Principles (附件3), each checked by a test: the two admin roles hold no business operation
(业务经办和审核); the vendor holds no permission touching personal data; one person never holds
both admin roles (:func:`check_role_assignment`); every role holds only what its duty needs.

Pure: no I/O, no state. :func:`require` is the one gate every maintenance action goes through.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Role(enum.StrEnum):
    """A maintenance role; the value is the backend's ``role`` string."""

    OPERATOR = "operator"
    VENDOR = "vendor"
    SYSTEM_ADMIN = "system_admin"
    BUSINESS_ADMIN = "business_admin"

    @property
    def label(self) -> str:
        """The Chinese name shown on screen and on receipts."""
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.OPERATOR: "业务操作员",
    Role.VENDOR: "设备厂商工程师",
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.BUSINESS_ADMIN: "业务管理员",
}

ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.BUSINESS_ADMIN})


class AccountStatus(enum.StrEnum):
    """Account status as the backend reports it (附件3: idle 3 months → locked)."""

    ACTIVE = "active"
    LOCKED = "locked"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class OperatorAccount:
    """A maintenance account as verified by the backend (``POST /operators/essc-signin``).

    ``account`` is the platform's account id (fit for the audit log); ``name_masked`` is already
    masked by the backend (e.g. ``张*``). Carries no ID number or phone number.
    """

    account: str
    name_masked: str
    role: Role
    status: AccountStatus


class Permission(enum.Enum):
    """One thing a maintenance user may do. ``business``: a 业务经办 operation for residents;
    ``personal_data``: may show or print a resident's data (masked or not)."""

    # (Chinese label, business operation, touches personal data)
    REPLACE_PAPER = ("更换打印纸", False, False)
    VIEW_PRINT_QUEUE = ("查看打印队列", True, True)
    REPRINT_FOR_PRESENT_RESIDENT = ("为在场群众补打凭条", True, True)
    VIEW_OUTBOX = ("查看待上传业务", True, True)
    RETRY_OUTBOX = ("立即重传待上传业务", True, False)
    REPORT_FAULT = ("问题反映", False, False)
    VIEW_TICKETS = ("查看问题反映处理情况", False, False)
    VIEW_DEVICE_HEALTH = ("查看设备状态", False, False)
    VIEW_NETWORK_HEALTH = ("查看网络和平台状态", False, False)
    VIEW_LOGS = ("查看运行日志", False, False)
    RUN_DIAGNOSTICS = ("硬件诊断", False, False)
    EXPORT_DIAGNOSTICS = ("导出诊断包", False, False)
    VIEW_CONFIG = ("查看本机配置", False, False)
    # 附件4's self-check: device and platform status and sign-in counts, no personal data.
    RUN_ACCEPTANCE_CHECK = ("验收自查", False, False)
    # Voice volume, mute and a test prompt: the operator on site and the vendor's speaker check.
    ADJUST_SOUND = ("调节音量和语音", False, False)
    EDIT_CONFIG = ("修改本机配置", False, False)
    MANAGE_ACCOUNTS = ("账号管理", False, False)
    SET_MAINTENANCE_PIN = ("设置维护密码", False, False)
    RESTART_KIOSK = ("重启自助机程序", False, False)
    EXIT_TO_DESKTOP = ("退出到桌面", False, False)
    VIEW_AUDIT_LOG = ("查看操作审计记录", False, False)
    GRANT_ROLES = ("角色关联和赋权", False, False)
    # The platform's web console (kiosk_backend/console): duties an account is granted within
    # what its role allows (附件3: 业务管理员 sets the least permissions each account needs).
    HANDLE_APPLICATIONS = ("办件受理和审核", True, True)
    ANSWER_TICKETS = ("问题台账答复和上报", False, True)
    WATCH_HELP_REQUESTS = ("接收群众求助", False, False)
    VIEW_FLEET = ("查看自助机运行情况", False, False)
    REVIEW_ACCOUNTS = ("每月账号核查", False, False)

    def __init__(self, label: str, business: bool, personal_data: bool) -> None:
        self.label = label
        self.business = business
        self.personal_data = personal_data


_P = Permission

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset(
        {
            _P.REPLACE_PAPER,
            _P.VIEW_PRINT_QUEUE,
            _P.REPRINT_FOR_PRESENT_RESIDENT,
            _P.VIEW_OUTBOX,
            _P.RETRY_OUTBOX,
            _P.REPORT_FAULT,
            _P.VIEW_TICKETS,
            _P.VIEW_DEVICE_HEALTH,
            _P.VIEW_NETWORK_HEALTH,
            _P.VIEW_LOGS,
            _P.RUN_ACCEPTANCE_CHECK,
            _P.HANDLE_APPLICATIONS,
            _P.ANSWER_TICKETS,
            _P.WATCH_HELP_REQUESTS,
            _P.VIEW_FLEET,
            _P.ADJUST_SOUND,
        }
    ),
    Role.VENDOR: frozenset(
        {
            _P.RUN_DIAGNOSTICS,
            _P.EXPORT_DIAGNOSTICS,
            _P.VIEW_DEVICE_HEALTH,
            _P.VIEW_NETWORK_HEALTH,
            _P.VIEW_LOGS,
            _P.RUN_ACCEPTANCE_CHECK,
            _P.VIEW_FLEET,
            _P.ADJUST_SOUND,
        }
    ),
    Role.SYSTEM_ADMIN: frozenset(
        {
            _P.RUN_ACCEPTANCE_CHECK,
            _P.VIEW_CONFIG,
            _P.EDIT_CONFIG,
            _P.MANAGE_ACCOUNTS,
            _P.SET_MAINTENANCE_PIN,
            _P.RESTART_KIOSK,
            _P.EXIT_TO_DESKTOP,
            _P.VIEW_AUDIT_LOG,
            _P.VIEW_FLEET,
        }
    ),
    Role.BUSINESS_ADMIN: frozenset({_P.GRANT_ROLES, _P.VIEW_AUDIT_LOG, _P.REVIEW_ACCOUNTS}),
}


class PermissionDenied(PermissionError):
    """The role may not do this; ``message`` is Chinese text fit for the screen."""

    def __init__(self, role: Role, permission: Permission) -> None:
        self.role = role
        self.permission = permission
        self.message = f"{role.label}无权进行“{permission.label}”操作"
        super().__init__(self.message)


class RoleConflict(ValueError):
    """One person would hold both admin roles (附件3: 严禁一人兼任两个岗位)."""


def allowed(role: Role, permission: Permission) -> bool:
    """True iff *role* holds *permission*. Unknown roles hold nothing."""
    return permission in GRANTS.get(role, frozenset())


def require(role: Role, permission: Permission) -> None:
    """Return if *role* holds *permission*, else raise :class:`PermissionDenied`."""
    if not allowed(role, permission):
        raise PermissionDenied(role, permission)


def permissions_of(role: Role) -> frozenset[Permission]:
    """Everything *role* may do (for building menus: show only what is allowed)."""
    return GRANTS.get(role, frozenset())


def check_role_assignment(roles: Iterable[Role]) -> frozenset[Role]:
    """Validate the roles one account would hold; raise :class:`RoleConflict` on a conflict.

    Conflicts: both admin roles (严禁一人兼任两个岗位), or an admin role together with the
    operator role (admin accounts 不能有业务经办和审核权限).
    """
    held = frozenset(roles)
    if held >= ADMIN_ROLES:
        raise RoleConflict("同一人不得同时担任系统管理员和业务管理员")
    if held & ADMIN_ROLES and Role.OPERATOR in held:
        raise RoleConflict("管理员账号不能同时具有业务经办权限")
    return held
