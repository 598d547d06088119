"""Rendering for the console: the Jinja2 environment, the navigation a user may see, the
response headers every console page carries, and the error pages.

Pages are rendered on the server; the only scripts are the vendored htmx (help queue refresh)
and ``console.js`` (idle countdown). The Content-Security-Policy allows scripts, styles and
images from the console itself only — no inline script or style anywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kiosk.domain.roles import ROLE_LABELS, Permission, Role
from kiosk_backend.console.auth import IDLE_MINUTES, Viewer
from kiosk_backend.identity import mask_id_number, mask_name, mask_phone

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
STATIC_DIR = HERE / "static"
SYSTEM_NAME = "就近办平台 · 工作台"

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    href: str
    needs: tuple[Permission, ...]  # any of these (empty: everyone)


NAV = (
    NavItem("home", "首页", "/console/", ()),
    NavItem("applications", "办件受理", "/console/applications", (Permission.HANDLE_APPLICATIONS,)),
    NavItem("tickets", "问题台账", "/console/tickets", (Permission.ANSWER_TICKETS,)),
    NavItem(
        "responsibility",
        "责任清单",
        "/console/tickets/responsibility",
        (Permission.ANSWER_TICKETS,),
    ),
    NavItem("help", "群众求助", "/console/help", (Permission.WATCH_HELP_REQUESTS,)),
    NavItem("fleet", "自助机", "/console/fleet", (Permission.VIEW_FLEET,)),
    NavItem(
        "accounts",
        "账号",
        "/console/accounts",
        (Permission.MANAGE_ACCOUNTS, Permission.GRANT_ROLES, Permission.REVIEW_ACCOUNTS),
    ),
    NavItem("requests", "用户申请单", "/console/requests", ()),
    NavItem(
        "reviews",
        "每月核查",
        "/console/reviews",
        (Permission.REVIEW_ACCOUNTS, Permission.MANAGE_ACCOUNTS),
    ),
    NavItem("audit", "审计记录", "/console/audit", (Permission.VIEW_AUDIT_LOG,)),
)


def nav_for(user: Viewer) -> list[NavItem]:
    return [n for n in NAV if not n.needs or any(user.may(p) for p in n.needs)]


def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime(fmt)


def role_label(value: str) -> str:
    try:
        return ROLE_LABELS[Role(value)]
    except ValueError:
        return value


def duty_label(name: str) -> str:
    return Permission[name].label if name in Permission.__members__ else name


TEMPLATES.env.filters.update(
    local_time=local_time,
    role_label=role_label,
    duty_label=duty_label,
    mask_name=mask_name,
    mask_id=mask_id_number,
    mask_phone=mask_phone,
)
TEMPLATES.env.globals.update(SYSTEM_NAME=SYSTEM_NAME, IDLE_MINUTES=IDLE_MINUTES)


def render(
    request: Request,
    template: str,
    user: Viewer | None,
    *,
    active: str = "",
    status_code: int = 200,
    **context,
) -> HTMLResponse:
    """A console page: the template with the user, their navigation and the security headers."""
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "nav": nav_for(user) if user else [],
            "active": active,
            "csrf": user.csrf if user else context.pop("csrf", ""),
            **context,
        },
        status_code=status_code,
    )
    response.headers.update(HEADERS)
    return response
