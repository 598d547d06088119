"""审计记录: the region's audit trail (who, what, when, before → after), newest first, for
业务管理员 and 系统管理员 (:data:`~kiosk.domain.roles.Permission.VIEW_AUDIT_LOG`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from kiosk.domain.roles import Permission
from kiosk_backend.audit_trail import ACTION_LABELS
from kiosk_backend.console import scope
from kiosk_backend.console.auth import User
from kiosk_backend.console.web import render
from kiosk_backend.staff_models import AuditEntry

router = APIRouter()

PAGE_SIZE = 100


@router.get("/audit")
def audit_page(
    request: Request,
    user: User,
    action: Annotated[str, Query(max_length=40, pattern=r"^[a-z_.]*$")] = "",
    actor: Annotated[str, Query(max_length=40, pattern=r"^[a-z0-9_.-]*$")] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
):
    user.require(Permission.VIEW_AUDIT_LOG)
    query = scope.audit_entries(user.region_code)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    total, more = scope.bounded_count(user.db, query)
    rows = user.db.scalars(
        query.order_by(AuditEntry.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return render(
        request,
        "audit.html",
        user,
        active="audit",
        title="审计记录",
        rows=rows,
        total=total,
        more=more,
        page=page,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        action=action,
        actor=actor,
        action_labels=ACTION_LABELS,
    )
