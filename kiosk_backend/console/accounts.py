"""账号 and 用户申请（变更）单 (附件3): the region's accounts; freeze and reset at once by the
系统管理员 (a leaked account is frozen at once); every other change by a request filled in here,
printed on A4 for signature and stamp, decided by the 业务管理员 and carried out by the
系统管理员 — with the rules of :mod:`kiosk_backend.staff` (least privilege, four eyes, nobody
changes their own account).

One-time credentials (a new or reset account's initial password, an administrator's TOTP
secret) are shown once, in the answer to the POST that made them — never in a URL — with a
QR code of the TOTP URI drawn as inline SVG.
"""

from __future__ import annotations

import io
from typing import Annotated

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlalchemy import func, select

from kiosk.domain.roles import Permission, Role
from kiosk_backend import audit_trail
from kiosk_backend.console import scope
from kiosk_backend.console.auth import CheckedForm, Forbidden, User, Viewer, now_utc
from kiosk_backend.console.web import render
from kiosk_backend.errors import not_found
from kiosk_backend.models import Operator
from kiosk_backend.staff import accounts as lifecycle
from kiosk_backend.staff import requests as account_requests
from kiosk_backend.staff.credentials import OneTimeCredentials, totp_uri
from kiosk_backend.staff.rules import (
    CONSOLE_DUTIES,
    LOCK_REASON_LABELS,
    STATUS_LABELS,
    AccountRuleError,
    grantable,
    idle_days,
)
from kiosk_backend.staff_models import AccountRequest, AuditEntry

router = APIRouter()

AccountName = Annotated[str, Path(min_length=3, max_length=40, pattern=r"^[a-z][a-z0-9_.-]+$")]
RequestNumber = Annotated[str, Path(min_length=4, max_length=24, pattern=r"^SQ[0-9]+$")]
ACCOUNT_VIEWERS = (Permission.MANAGE_ACCOUNTS, Permission.GRANT_ROLES, Permission.REVIEW_ACCOUNTS)
SYSTEM_NAME_ON_FORM = "就业社保服务信息系统（就近办平台）"


def _require_any(user: Viewer, permissions) -> None:
    if not any(user.may(p) for p in permissions):
        raise Forbidden("您的账号不能查看账号信息")


def _account(user: Viewer, account: str) -> Operator:
    operator = user.db.scalar(scope.accounts(user.region_code).where(Operator.account == account))
    if operator is None:
        raise not_found("本辖区没有这个账号")
    return operator


def _roles_grants() -> list[tuple[Role, list[Permission]]]:
    return [(role, list(grantable(role))) for role in Role]


@router.get("/accounts")
def account_list(
    request: Request,
    user: User,
    status: Annotated[str, Query(pattern="^(|active|locked|cancelled)$")] = "",
):
    _require_any(user, ACCOUNT_VIEWERS)
    query = scope.accounts(user.region_code)
    if status:
        query = query.where(Operator.status == status)
    rows = user.db.scalars(query.order_by(Operator.region_code, Operator.account)).all()
    today = lifecycle.local_date(now_utc())
    return render(
        request,
        "accounts.html",
        user,
        active="accounts",
        title="账号",
        rows=[(o, idle_days(lifecycle.last_active(o), today)) for o in rows],
        status=status,
        status_labels=STATUS_LABELS,
        lock_labels=LOCK_REASON_LABELS,
    )


@router.get("/accounts/{account}")
def account_detail(request: Request, account: AccountName, user: User):
    _require_any(user, ACCOUNT_VIEWERS)
    operator = _account(user, account)
    audit_trail.record(
        user.db,
        actor=user.account,
        action="account.view_personal",
        target_kind="account",
        target=operator.account,
        region_code=operator.region_code,
    )
    user.db.commit()
    return _detail_page(request, user, operator)


def _detail_page(request: Request, user: Viewer, operator: Operator, **extra):
    history = user.db.scalars(
        scope.audit_entries(user.region_code)
        .where(AuditEntry.target_kind == "account", AuditEntry.target == operator.account)
        .order_by(AuditEntry.id.desc())
        .limit(50)
    ).all()
    active_on = lifecycle.last_active(operator)
    return render(
        request,
        "account.html",
        user,
        active="accounts",
        title=f"账号 {operator.account}",
        o=operator,
        idle=idle_days(active_on, lifecycle.local_date(now_utc())),
        history=history,
        status_labels=STATUS_LABELS,
        lock_labels=LOCK_REASON_LABELS,
        action_labels=audit_trail.ACTION_LABELS,
        may_manage=user.may(Permission.MANAGE_ACCOUNTS) and operator.account != user.account,
        **extra,
    )


def _handover(request: Request, user: Viewer, account: str, handed, heading: str):
    """The page that shows one-time credentials (and a TOTP QR) exactly once."""
    if isinstance(handed, str):  # a TOTP secret alone (role changed to an administrator)
        handed = OneTimeCredentials(
            password="", totp_secret=handed, totp_uri=totp_uri(handed, account)
        )
    qr_svg = Markup(_qr_svg(handed.totp_uri)) if handed and handed.totp_uri else ""
    return render(
        request,
        "handover.html",
        user,
        active="accounts",
        title=heading,
        heading=heading,
        account=account,
        handed=handed,
        qr_svg=qr_svg,
    )


def _qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return svg[svg.index("<svg") :]


@router.post("/accounts/{account}/freeze")
def freeze(
    request: Request,
    account: AccountName,
    form: CheckedForm,
    user: User,
):
    user.require(Permission.MANAGE_ACCOUNTS)
    operator = _account(user, account)
    try:
        lifecycle.freeze(
            user.db, operator, str(form.get("reason", "")), actor=user.actor, now=now_utc()
        )
    except AccountRuleError as exc:
        user.db.rollback()
        return _detail_page(request, user, _account(user, account), error=str(exc))
    user.db.commit()
    return _detail_page(request, user, operator, flash="账号已冻结，其登录已全部失效")


@router.post("/accounts/{account}/reset")
def reset(
    request: Request,
    account: AccountName,
    form: CheckedForm,
    user: User,
):
    user.require(Permission.MANAGE_ACCOUNTS)
    operator = _account(user, account)
    try:
        handed = lifecycle.reset(
            user.db,
            operator,
            actor=user.actor,
            now=now_utc(),
            note=str(form.get("reason", "")).strip(),
        )
    except AccountRuleError as exc:
        user.db.rollback()
        return _detail_page(request, user, _account(user, account), error=str(exc))
    user.db.commit()
    return _handover(request, user, operator.account, handed, "登录凭据已重置")


# --- 用户申请（变更）单 ---------------------------------------------------------------------


@router.get("/requests")
def request_list(
    request: Request,
    user: User,
    state: Annotated[str, Query(pattern="^(|submitted|approved|refused|done)$")] = "",
):
    query = scope.account_requests(user.region_code)
    if state:
        query = query.where(AccountRequest.state == state)
    total = user.db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = user.db.scalars(query.order_by(AccountRequest.id.desc()).limit(200)).all()
    return render(
        request,
        "requests.html",
        user,
        active="requests",
        title="用户申请（变更）单",
        rows=rows,
        total=total,
        state=state,
        kind_labels=account_requests.KIND_LABELS,
        state_labels=account_requests.STATE_LABELS,
    )


def _form_page(request: Request, user: Viewer, values: dict, **extra):
    return render(
        request,
        "request_form.html",
        user,
        active="requests",
        title="填写用户申请（变更）单",
        v=values,
        kinds=account_requests.KIND_LABELS,
        roles_grants=_roles_grants(),
        duties=CONSOLE_DUTIES,
        **extra,
    )


@router.get("/requests/new")
def request_form(
    request: Request,
    user: User,
    kind: Annotated[str, Query(pattern="^(|new|change_role|freeze|unlock|cancel|reset)$")] = "",
    account: Annotated[str, Query(max_length=40, pattern=r"^[a-z0-9_.-]*$")] = "",
):
    defaults = {
        "kind": kind or "new",
        "account": account,
        "region_code": user.region_code,
        "applicant_unit": user.operator.region,
    }
    return _form_page(request, user, defaults)


@router.post("/requests/new")
def file_request(request: Request, form: CheckedForm, user: User):
    values = {k: str(v) for k, v in form.multi_items() if k not in ("csrf", "grants")}
    grants = [str(g) for g in form.getlist("grants")]
    proposed = {
        "account": values.get("new_account", ""),
        "name": values.get("name", ""),
        "id_number": values.get("id_number", ""),
        "phone": values.get("phone", ""),
        "role": values.get("role", ""),
        "region": values.get("region", ""),
        "region_code": values.get("region_code", ""),
        "title": values.get("title", ""),
        "grants": grants,
    }
    try:
        filed = account_requests.file_request(
            user.db,
            actor=user.actor,
            kind=values.get("kind", ""),
            account=values.get("account", "").strip().lower(),
            applicant_unit=values.get("applicant_unit", ""),
            contact_name=values.get("contact_name", ""),
            contact_phone=values.get("contact_phone", ""),
            reason=values.get("reason", ""),
            proposed=proposed,
            now=now_utc(),
        )
    except AccountRuleError as exc:
        user.db.rollback()
        values["grants"] = grants
        return _form_page(request, user, values, error=str(exc), field=exc.field, status_code=422)
    user.db.commit()
    return RedirectResponse(f"/console/requests/{filed.number}", status_code=303)


def _request(user: Viewer, number: str) -> AccountRequest:
    found = user.db.scalar(
        scope.account_requests(user.region_code).where(AccountRequest.number == number)
    )
    if found is None:
        raise not_found("本辖区没有这张申请单")
    return found


def _request_page(request: Request, user: Viewer, filed: AccountRequest, template: str, **extra):
    subject = user.db.get(Operator, filed.account) if filed.kind != "new" else None
    return render(
        request,
        template,
        user,
        active="requests",
        title=f"申请单 {filed.number}",
        r=filed,
        subject=subject,
        kind_labels=account_requests.KIND_LABELS,
        state_labels=account_requests.STATE_LABELS,
        system_name=SYSTEM_NAME_ON_FORM,
        may_decide=user.may(Permission.GRANT_ROLES) and filed.state == "submitted",
        may_execute=user.may(Permission.MANAGE_ACCOUNTS) and filed.state == "approved",
        **extra,
    )


@router.get("/requests/{number}")
def request_detail(request: Request, number: RequestNumber, user: User, done: str = ""):
    filed = _request(user, number)
    flash = {"filed": "申请单已提交", "decided": "已审核"}.get(done, "")
    return _request_page(request, user, filed, "request.html", flash=flash)


@router.get("/requests/{number}/print")
def request_print(request: Request, number: RequestNumber, user: User):
    """The 用户申请（变更）单 laid out as 附件3's form, for A4 (the browser's print). It carries
    the holder's full ID number and phone (附件3 requires them), so viewing it is audited."""
    filed = _request(user, number)
    audit_trail.record(
        user.db,
        actor=user.account,
        action="request.view_personal",
        target_kind="request",
        target=filed.number or "",
        region_code=filed.region_code,
    )
    user.db.commit()
    return _request_page(request, user, filed, "request_print.html")


@router.post("/requests/{number}/decide")
def decide(
    request: Request,
    number: RequestNumber,
    form: CheckedForm,
    user: User,
):
    filed = _request(user, number)
    try:
        account_requests.decide(
            user.db,
            filed,
            actor=user.actor,
            approve=form.get("decision") == "approve",
            opinion=str(form.get("opinion", "")),
            now=now_utc(),
        )
    except AccountRuleError as exc:
        user.db.rollback()
        return _request_page(request, user, _request(user, number), "request.html", error=str(exc))
    user.db.commit()
    return RedirectResponse(f"/console/requests/{filed.number}?done=decided", status_code=303)


@router.post("/requests/{number}/execute")
def execute(
    request: Request,
    number: RequestNumber,
    _form: CheckedForm,
    user: User,
):
    user.require(Permission.MANAGE_ACCOUNTS)
    filed = _request(user, number)
    try:
        handed = account_requests.execute(user.db, filed, actor=user.actor, now=now_utc())
    except AccountRuleError as exc:
        user.db.rollback()
        return _request_page(request, user, _request(user, number), "request.html", error=str(exc))
    user.db.commit()
    if handed:
        return _handover(request, user, filed.account, handed, f"已办理申请单 {filed.number}")
    return _request_page(request, user, filed, "request.html", flash="已办理")
