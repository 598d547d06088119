"""County desk back office: work the applications filed at the region's kiosks (受理 → 审核中 →
已办结 / 不予受理), so 我的办件 on the kiosk shows real movement.

Desk-only (``/api/v1/desk/…``): the signing middleware refuses kiosks here, and refuses desks
everywhere outside the desk endpoints. Only county desks move applications
(:mod:`kiosk_backend.progression`). Residents appear masked: the desk needs the number, the item
and the status, not the resident's full identity.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session

from kiosk.domain.identity import mask_id_number, mask_name
from kiosk_backend import catalogue, progression
from kiosk_backend.answers import commit_with_answer
from kiosk_backend.deps import calling_kiosk_id, db_session
from kiosk_backend.filing import STATUS_LABELS, agent_of
from kiosk_backend.models import Application, Person
from kiosk_backend.schemas import AgentOut, Strict

router = APIRouter(prefix="/desk", tags=["desk"])

DESK_ONLY = {403: {"description": "仅县级责任人可以受理和审核办件"}}
ApplicationNumber = Annotated[
    str, Path(min_length=4, max_length=32, pattern=r"^[A-Z]{2}[0-9A-Z]{2,30}$")
]
Status = Literal[
    "waiting_counter", "submitted", "in_review", "completed", "rejected", "approved", "cancelled"
]


class StatusChange(Strict):
    status: Literal["submitted", "in_review", "completed", "rejected"] = Field(
        description="submitted 受理 / in_review 审核中 / completed 已办结 / rejected 不予受理"
    )
    reason: Annotated[str, StringConstraints(max_length=300, strip_whitespace=True)] = Field(
        "", description="办理结果或不予受理的理由（不予受理时必填），群众在“我的办件”中可见"
    )


class StatusEvent(BaseModel):
    at: dt.datetime
    actor: str
    from_status: str
    to_status: str
    text: str


class DeskApplication(BaseModel):
    number: str
    item_no: int
    item_name: str
    status: Status
    status_label: str
    submitted_at: dt.datetime
    updated_at: dt.datetime | None
    due_date: dt.date | None
    accepted_on: dt.date | None = Field(
        None, description="柜台受理日：预约柜台办理的办结时限自此起算"
    )
    queue_no: str | None
    kiosk_id: str
    service_point: str
    resident_name_masked: str
    resident_id_number_masked: str
    agent: AgentOut | None
    result: str
    allowed: list[str] = Field(description="可以变更到的状态")
    events: list[StatusEvent]


class DeskApplicationList(BaseModel):
    items: list[DeskApplication]


def _view(session: Session, application: Application) -> DeskApplication:
    person = session.get(Person, application.person_id)
    return DeskApplication(
        number=application.number,
        item_no=application.item_no,
        item_name=catalogue.item(application.item_no).name,
        status=application.status,
        status_label=STATUS_LABELS.get(application.status, application.status),
        submitted_at=application.submitted_at,
        updated_at=application.updated_at,
        due_date=application.due_date,
        accepted_on=application.accepted_on,
        queue_no=application.queue_no,
        kiosk_id=application.kiosk_id,
        service_point=application.service_point,
        resident_name_masked=mask_name(person.name) if person else "",
        resident_id_number_masked=mask_id_number(person.id_number) if person else "",
        agent=agent_of(application),
        result=application.result,
        allowed=sorted(progression.TRANSITIONS.get(application.status, ())),
        events=[
            StatusEvent(
                at=e.at,
                actor=e.actor,
                from_status=e.from_status,
                to_status=e.to_status,
                text=e.text,
            )
            for e in progression.events_of(session, application)
        ],
    )


@router.get(
    "/applications",
    response_model=DeskApplicationList,
    summary="本辖区办件（待受理、审核中等）",
    responses=DESK_ONLY,
)
def list_applications(
    request: Request,
    session: Annotated[Session, Depends(db_session)],
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> DeskApplicationList:
    desk = progression.require_county_desk(session, calling_kiosk_id(request))
    rows = progression.region_applications(session, desk, status, limit)
    return DeskApplicationList(items=[_view(session, a) for a in rows])


@router.post(
    "/applications/{number}/status",
    response_model=DeskApplication,
    summary="办件状态变更（受理 / 审核中 / 已办结 / 不予受理）",
    responses={
        **DESK_ONLY,
        409: {"description": "当前状态不能变更为所选状态"},
    },
)
def change_status(
    number: ApplicationNumber,
    body: StatusChange,
    request: Request,
    session: Annotated[Session, Depends(db_session)],
) -> Response:
    desk = progression.require_county_desk(session, calling_kiosk_id(request))
    application = progression.move_application(
        session,
        desk,
        number,
        body.status,
        body.reason,
        now=dt.datetime.now(dt.UTC),
        zone=ZoneInfo(request.app.state.settings.timezone),
    )
    return commit_with_answer(session, request, _view(session, application))
