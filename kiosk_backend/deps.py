"""FastAPI dependencies shared by the routers: database session, calling kiosk, clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlalchemy.orm import Session

from kiosk_backend.models import Kiosk
from kiosk_backend.ticket_routing import Level


def db_session(request: Request) -> Iterator[Session]:
    """One session per request; the route commits what it changed."""
    with request.app.state.sessions() as session:
        yield session


def calling_kiosk_id(request: Request) -> str:
    """The kiosk id the signing middleware authenticated."""
    return request.scope.get("state", {}).get("kiosk_id", "")


def calling_kiosk(request: Request, session: Session) -> Kiosk | None:
    return session.get(Kiosk, calling_kiosk_id(request))


def local_today(request: Request) -> dt.date:
    """Today in the county's time zone."""
    return dt.datetime.now(ZoneInfo(request.app.state.settings.timezone)).date()


def answer_days(request: Request) -> Mapping[Level, int]:
    """Working days each level has to answer a ticket (the deployment's local rule)."""
    return request.app.state.answer_days
