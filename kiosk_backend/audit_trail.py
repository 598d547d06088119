"""The platform's audit trail: who did what, when, before → after (``audit_entries``).

Every console action and every account change (console, CLI, scheduled job) adds one entry in
the same transaction as the change itself, so a change never lands without its entry. Personal
values (ID numbers, phones) are stored masked: the trail says that a phone changed, not the
numbers. Viewing a resident's full data is an entry too (action ``*.view_personal``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from kiosk_backend.identity import mask_id_number, mask_phone
from kiosk_backend.staff_models import AuditEntry

SYSTEM_ACTOR = "system"
CLI_ACTOR = "cli"

_MASKERS = {"id_number": mask_id_number, "phone": mask_phone, "contact_phone": mask_phone}

ACTION_LABELS = {
    "signin": "登录",
    "signin.failed": "登录失败",
    "signout": "退出",
    "signout.idle": "闲置超时退出",
    "password.change": "修改密码",
    "account.create": "创建账号",
    "account.change_role": "变更角色和权限",
    "account.freeze": "冻结账号",
    "account.unlock": "解锁账号",
    "account.reset": "重置登录凭据",
    "account.cancel": "注销账号",
    "account.lock_idle": "超期未登录自动锁定",
    "account.view_personal": "查看账号实名信息",
    "request.file": "提交用户申请（变更）单",
    "request.view_personal": "打印或查看申请单实名信息",
    "request.approve": "审核同意申请单",
    "request.refuse": "审核不同意申请单",
    "request.execute": "办理申请单",
    "review.sign": "每月核查签字",
    "application.move": "办件状态变更",
    "application.view_personal": "查看办件完整信息",
    "ticket.answer": "答复工单",
    "ticket.escalate": "上报工单",
    "ticket.close": "办结工单",
    "ticket.view_personal": "查看工单联系电话",
    "help.take": "接单（群众求助）",
    "help.done": "求助已处理",
}


def masked(values: dict[str, Any]) -> dict[str, Any]:
    """*values* with personal fields masked (fit for the trail)."""
    return {
        k: _MASKERS[k](v) if k in _MASKERS and isinstance(v, str) else v for k, v in values.items()
    }


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target_kind: str,
    target: str,
    region_code: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Add one entry (the caller commits it together with the change)."""
    entry = AuditEntry(
        at=at or dt.datetime.now(dt.UTC),
        actor=actor,
        action=action,
        target_kind=target_kind,
        target=target[:64],
        region_code=region_code,
        before=masked(before or {}),
        after=masked(after or {}),
        note=note[:2000],
    )
    session.add(entry)
    return entry
