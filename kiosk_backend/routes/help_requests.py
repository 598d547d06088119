"""请工作人员帮忙: a resident stuck on a screen calls the service point's staff.

Fault tickets and problem reports are not here: they live in the 问题台账
(:mod:`kiosk_backend.routes.ledger`), the one ticket system of the platform.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session

from kiosk_backend.answers import commit_with_answer
from kiosk_backend.deps import calling_kiosk_id, db_session
from kiosk_backend.models import HelpRequest
from kiosk_backend.schemas import Strict

router = APIRouter(tags=["help"])


class HelpCreate(Strict):
    """请工作人员帮忙: where the resident is stuck. No personal data."""

    screen: Annotated[
        str, StringConstraints(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    ]
    item_no: int | None = Field(None, ge=1, le=40)


class HelpOut(BaseModel):
    id: int
    created_at: dt.datetime
    message: str


@router.post("/help-requests", response_model=HelpOut, summary="请工作人员帮忙")
def help_request(
    body: HelpCreate, request: Request, session: Annotated[Session, Depends(db_session)]
) -> Response:
    call = HelpRequest(
        kiosk_id=calling_kiosk_id(request),
        screen=body.screen,
        item_no=body.item_no,
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(call)
    session.flush()
    answer = HelpOut(id=call.id, created_at=call.created_at, message="已通知工作人员，请稍候")
    return commit_with_answer(session, request, answer)
