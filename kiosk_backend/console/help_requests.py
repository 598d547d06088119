"""群众求助 (请工作人员帮忙) for the operator on duty: the region's requests as they come in —
the list refreshes itself every few seconds (htmx polling a fragment that does not count as
activity for the idle sign-out) — with 接单 and 已处理. Requests carry no personal data.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from kiosk.domain.roles import Permission
from kiosk_backend import audit_trail, catalogue
from kiosk_backend.console import scope
from kiosk_backend.console.auth import CheckedForm, PassiveUser, User, Viewer, now_utc
from kiosk_backend.console.web import render
from kiosk_backend.errors import not_found
from kiosk_backend.models import HelpRequest, Kiosk

router = APIRouter()

POLL_SECONDS = 5
SHOW_DONE_FOR = dt.timedelta(hours=12)
STATE_LABELS = {"open": "待接单", "taken": "处理中", "done": "已处理"}
HelpId = Annotated[int, Path(ge=1, le=2_000_000_000)]


def _rows(user: Viewer):
    since = now_utc() - SHOW_DONE_FOR
    query = (
        scope.help_requests(user.region_code)
        .where((HelpRequest.state != "done") | (HelpRequest.created_at >= since))
        .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
        .limit(200)
    )
    requests = user.db.scalars(query).all()
    kiosks = {
        k.id: k
        for k in user.db.scalars(select(Kiosk).where(Kiosk.id.in_({r.kiosk_id for r in requests})))
    }
    return [(r, kiosks.get(r.kiosk_id)) for r in requests]


def _context(user: Viewer) -> dict:
    rows = _rows(user)
    return {
        "rows": rows,
        "open_count": sum(1 for r, _k in rows if r.state == "open"),
        "state_labels": STATE_LABELS,
        "item_name": lambda no: catalogue.item(no).name if no else "",
        "poll": POLL_SECONDS,
        "now": now_utc(),
    }


@router.get("/help")
def help_page(request: Request, user: User):
    user.require(Permission.WATCH_HELP_REQUESTS)
    return render(request, "help.html", user, active="help", title="群众求助", **_context(user))


@router.get("/help/live")
def help_live(request: Request, user: PassiveUser):
    """The list alone, for the page's own refresh (not counted as activity)."""
    user.require(Permission.WATCH_HELP_REQUESTS)
    return render(request, "help_rows.html", user, **_context(user))


def _act(user: Viewer, help_id: int, state: str, action: str):
    user.require(Permission.WATCH_HELP_REQUESTS)
    call = user.db.scalar(scope.help_requests(user.region_code).where(HelpRequest.id == help_id))
    if call is None:
        raise not_found("本辖区没有这条求助")
    kiosk = user.db.get(Kiosk, call.kiosk_id)
    before = {"state": call.state, "handled_by": call.handled_by}
    if call.state != "done":
        call.state = state
        call.handled_by = user.account
        call.handled_at = now_utc()
        audit_trail.record(
            user.db,
            actor=user.account,
            action=action,
            target_kind="help",
            target=str(call.id),
            region_code=kiosk.region_code if kiosk else "",
            before=before,
            after={"state": call.state, "handled_by": call.handled_by},
        )
        user.db.commit()
    return RedirectResponse("/console/help", status_code=303)


@router.post("/help/{help_id}/take")
def take(help_id: HelpId, _form: CheckedForm, user: User):
    return _act(user, help_id, "taken", "help.take")


@router.post("/help/{help_id}/done")
def done(help_id: HelpId, _form: CheckedForm, user: User):
    return _act(user, help_id, "done", "help.done")
