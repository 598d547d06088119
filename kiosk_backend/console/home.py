"""首页: what waits for the signed-in user, one card per duty they hold."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import APIRouter, Request

from kiosk.domain.roles import Permission
from kiosk_backend.console import scope
from kiosk_backend.console.auth import User, Viewer
from kiosk_backend.console.fleet import stale_count
from kiosk_backend.console.tickets import desk_level
from kiosk_backend.console.web import render
from kiosk_backend.deps import local_today
from kiosk_backend.ledger_models import LedgerTicket
from kiosk_backend.models import Application, HelpRequest
from kiosk_backend.staff_models import AccountRequest
from kiosk_backend.ticket_routing import AWAITING_ANSWER, OPEN_STATES

router = APIRouter()


@dataclass(frozen=True)
class Card:
    label: str
    count: int
    href: str
    alert: bool = False
    note: str = ""


HOME_CAP = 999  # a card says "999+" beyond this


def _count(user: Viewer, query) -> int:
    """Rows of *query*, up to HOME_CAP + 1 (shown as "999+")."""
    counted, more = scope.bounded_count(user.db, query, cap=HOME_CAP)
    return counted + int(more)


def cards_for(user: Viewer, request: Request) -> list[Card]:
    today: dt.date = local_today(request)
    region = user.region_code
    cards = []
    if user.may(Permission.HANDLE_APPLICATIONS):
        waiting = scope.queue_applications(region).where(
            Application.status.in_(("waiting_counter", "submitted", "in_review"))
        )
        late = waiting.where(Application.due_date < today)
        overdue = _count(user, late)
        cards.append(Card("待办办件", _count(user, waiting), "/console/applications", False))
        cards.append(Card("超期办件", overdue, "/console/applications?overdue=1", overdue > 0))
    if user.may(Permission.ANSWER_TICKETS):
        mine = scope.tickets(region).where(
            LedgerTicket.level == desk_level(user),
            LedgerTicket.state.in_([s.value for s in OPEN_STATES]),
        )
        late = mine.where(
            LedgerTicket.state.in_([s.value for s in AWAITING_ANSWER]),
            LedgerTicket.answer_due < today,
        )
        overdue = _count(user, late)
        cards.append(Card("本级待办工单", _count(user, mine), "/console/tickets"))
        cards.append(Card("超期未答复工单", overdue, "/console/tickets?overdue=1", overdue > 0))
    if user.may(Permission.WATCH_HELP_REQUESTS):
        open_help = _count(user, scope.help_requests(region).where(HelpRequest.state == "open"))
        cards.append(Card("群众求助（未接单）", open_help, "/console/help", open_help > 0))
    if user.may(Permission.VIEW_FLEET):
        stale = stale_count(user, request)
        cards.append(Card("失联自助机", stale, "/console/fleet", stale > 0))
    if user.may(Permission.GRANT_ROLES):
        pending = scope.account_requests(region).where(AccountRequest.state == "submitted")
        cards.append(
            Card("待审核申请单", _count(user, pending), "/console/requests?state=submitted")
        )
    if user.may(Permission.MANAGE_ACCOUNTS):
        approved = scope.account_requests(region).where(AccountRequest.state == "approved")
        cards.append(
            Card("待办理申请单", _count(user, approved), "/console/requests?state=approved")
        )
    return cards


@router.get("/")
def home(request: Request, user: User):
    return render(
        request, "home.html", user, active="home", title="首页", cards=cards_for(user, request)
    )
