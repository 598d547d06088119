"""用户申请（变更）单: filed → decided by a 业务管理员 (县人社部门意见) → carried out by a
系统管理员 (附件3 第五条). Kinds: 新增账号, 变更账号权限, 冻结账号, 解锁账号, 注销账号, 重置.

States: ``submitted`` 待审核 → ``approved`` 已同意 → ``done`` 已办理, or ``refused`` 不同意.
Four eyes: the approver is neither the filer nor the person the request is about; the executor
is not that person either (nobody grants themselves roles). Callers commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from kiosk.domain.roles import Permission, Role
from kiosk_backend import audit_trail
from kiosk_backend.identity import is_valid_phone
from kiosk_backend.models import Operator
from kiosk_backend.staff import accounts
from kiosk_backend.staff.accounts import AccountSpec, Actor, local_date
from kiosk_backend.staff.credentials import OneTimeCredentials
from kiosk_backend.staff.rules import (
    AccountRuleError,
    check_account_name,
    check_grants,
    check_real_name,
    check_region_code,
    covers,
    may_manage,
)
from kiosk_backend.staff_models import AccountRequest

KIND_LABELS = {
    "new": "新增账号",
    "change_role": "变更账号权限",
    "freeze": "冻结账号",
    "unlock": "解锁账号",
    "cancel": "注销账号",
    "reset": "重置登录凭据",
}
STATE_LABELS = {
    "submitted": "待审核",
    "approved": "已同意，待办理",
    "refused": "不同意",
    "done": "已办理",
}


def _proposed_new(proposed: dict[str, Any]) -> dict[str, Any]:
    account = check_account_name(str(proposed.get("account", "")).strip().lower())
    name, id_number, phone = check_real_name(
        str(proposed.get("name", "")),
        str(proposed.get("id_number", "")),
        str(proposed.get("phone", "")),
    )
    role = _role(str(proposed.get("role", "")))
    region_code = check_region_code(str(proposed.get("region_code", "")).strip())
    region = str(proposed.get("region", "")).strip()
    if not region:
        raise AccountRuleError("请填写使用人所在单位", "region")
    return {
        "account": account,
        "name": name,
        "id_number": id_number,
        "phone": phone,
        "role": role.value,
        "grants": check_grants(role, list(proposed.get("grants", []))),
        "region": region[:100],
        "region_code": region_code,
        "title": str(proposed.get("title", "")).strip()[:50],
    }


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise AccountRuleError("请选择角色", "role") from None


def file_request(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    account: str,
    applicant_unit: str,
    contact_name: str,
    contact_phone: str,
    reason: str,
    proposed: dict[str, Any],
    now: dt.datetime,
) -> AccountRequest:
    """File a request (validated in full now, so the approver sees a request that can be done)."""
    if kind not in KIND_LABELS:
        raise AccountRuleError("请选择申请事项", "kind")
    if not applicant_unit.strip():
        raise AccountRuleError("请填写申请单位", "applicant_unit")
    if not contact_name.strip():
        raise AccountRuleError("请填写联系人", "contact_name")
    if not is_valid_phone(contact_phone.strip()):
        raise AccountRuleError("联系方式应为11位手机号码或带区号的固定电话", "contact_phone")
    if kind == "new":
        details = _proposed_new(proposed)
        if session.get(Operator, details["account"]) is not None:
            raise AccountRuleError("该登录账号已存在", "account")
        account, region_code = details["account"], details["region_code"]
    else:
        subject = accounts.find(session, account)
        if subject is None or not covers(actor.region_code, subject.region_code):
            raise AccountRuleError("本辖区没有这个账号", "account")
        if subject.status == "cancelled":
            raise AccountRuleError("账号已注销", "account")
        account, region_code = subject.account, subject.region_code
        details = {}
        if kind == "change_role":
            role = _role(str(proposed.get("role", "")))
            details = {
                "role": role.value,
                "grants": check_grants(role, list(proposed.get("grants", []))),
            }
        if kind in ("freeze", "cancel") and not reason.strip():
            raise AccountRuleError("请填写申请原因", "reason")
    if not actor.trusted and not covers(actor.region_code, region_code):
        raise AccountRuleError("只能为本辖区的账号提出申请", "region_code")
    request = AccountRequest(
        kind=kind,
        account=account,
        region_code=region_code,
        applicant_unit=applicant_unit.strip()[:100],
        contact_name=contact_name.strip()[:50],
        contact_phone=contact_phone.strip(),
        proposed=details,
        reason=reason.strip()[:2000],
        state="submitted",
        filed_by=actor.account,
        filed_at=now,
    )
    session.add(request)
    session.flush()
    request.number = f"SQ{local_date(now):%Y%m%d}{request.id:05d}"
    _audit(session, actor, "request.file", request, {})
    return request


def _subject_id_number(session: Session, request: AccountRequest) -> str:
    if request.kind == "new":
        return str(request.proposed.get("id_number", ""))
    subject = session.get(Operator, request.account)
    return subject.id_number if subject else ""


def _subject_role(session: Session, request: AccountRequest) -> Role:
    if request.kind in ("new", "change_role"):
        return Role(request.proposed["role"])
    subject = session.get(Operator, request.account)
    return Role(subject.role) if subject else Role.OPERATOR


def decide(
    session: Session,
    request: AccountRequest,
    *,
    actor: Actor,
    approve: bool,
    opinion: str,
    now: dt.datetime,
) -> None:
    """The 业务管理员's decision (县人社部门意见); a refusal needs its reason."""
    if not actor.may(Permission.GRANT_ROLES):
        raise AccountRuleError("只有业务管理员可以审核申请单")
    if request.state != "submitted":
        raise AccountRuleError(f"申请单{STATE_LABELS[request.state]}，不能再审核")
    if not actor.trusted:
        if actor.account == request.filed_by:
            raise AccountRuleError("不能审核本人提交的申请单")
        if _subject_id_number(session, request) == actor.id_number:
            raise AccountRuleError("不能审核本人账号的申请")
        if not may_manage(actor.region_code, _subject_role(session, request), request.region_code):
            raise AccountRuleError("该申请不在您的审核范围内（管理员账号由上一级审核）")
    if not approve and not opinion.strip():
        raise AccountRuleError("不同意时请写明理由", "opinion")
    before = {"state": request.state}
    request.state = "approved" if approve else "refused"
    request.decided_by = actor.account
    request.decided_at = now
    request.opinion = opinion.strip()[:2000] or "同意"
    _audit(session, actor, "request.approve" if approve else "request.refuse", request, before)
    session.flush()


def execute(
    session: Session, request: AccountRequest, *, actor: Actor, now: dt.datetime
) -> OneTimeCredentials | str | None:
    """Carry out an approved request (系统管理员). Returns what to hand the holder once: the
    credentials of a new / reset account, or a new TOTP secret after a change to an admin role."""
    if request.state != "approved":
        raise AccountRequestNotApproved(f"申请单{STATE_LABELS[request.state]}，不能办理")
    note = f"依据申请单 {request.number}"
    handed: OneTimeCredentials | str | None = None
    if request.kind == "new":
        p = request.proposed
        spec = AccountSpec(
            account=p["account"],
            name=p["name"],
            id_number=p["id_number"],
            phone=p["phone"],
            role=p["role"],
            region=p["region"],
            region_code=p["region_code"],
            title=p.get("title", ""),
            grants=tuple(p.get("grants", [])),
        )
        _, handed = accounts.create_account(session, spec, actor=actor, now=now, note=note)
    else:
        subject = session.get(Operator, request.account)
        if subject is None:
            raise AccountRuleError("账号不存在")
        if request.kind == "change_role":
            handed = accounts.change_role(
                session,
                subject,
                request.proposed["role"],
                list(request.proposed.get("grants", [])),
                actor=actor,
                now=now,
                note=note,
            )
        elif request.kind == "freeze":
            accounts.freeze(session, subject, f"{request.reason}（{note}）", actor=actor, now=now)
        elif request.kind == "unlock":
            accounts.unlock(session, subject, actor=actor, now=now, note=note)
        elif request.kind == "cancel":
            accounts.cancel(session, subject, f"{request.reason}（{note}）", actor=actor, now=now)
        elif request.kind == "reset":
            handed = accounts.reset(session, subject, actor=actor, now=now, note=note)
    before = {"state": request.state}
    request.state = "done"
    request.executed_by = actor.account
    request.executed_at = now
    _audit(session, actor, "request.execute", request, before)
    session.flush()
    return handed


class AccountRequestNotApproved(AccountRuleError):
    """Only an approved request can be carried out."""


def _audit(session: Session, actor: Actor, action: str, request: AccountRequest, before) -> None:
    audit_trail.record(
        session,
        actor=actor.account,
        action=action,
        target_kind="request",
        target=request.number or str(request.id),
        region_code=request.region_code,
        before=before,
        after={"state": request.state, "kind": request.kind, "account": request.account},
        note=request.opinion if action.startswith("request.") and request.opinion else "",
    )
