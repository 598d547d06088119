"""The operator roster of a kiosk's region: who may unlock its maintenance mode offline.

``GET /kiosks/operators`` lists the staff accounts (附件3, real-name accounts on the platform)
whose division code lies in the calling kiosk's region, with their status as the kiosk must
apply it: ``locked`` also for an active account idle for more than 3 months (附件3). The kiosk
keeps the list and accepts a maintenance PIN only for an ``active`` account on it, so a locked
or cancelled account's PIN stops working at the kiosk's next sync. Names go out masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk_backend.deps import calling_kiosk, db_session
from kiosk_backend.identity import mask_name
from kiosk_backend.models import Operator
from kiosk_backend.staff.accounts import last_active, local_date
from kiosk_backend.staff.rules import is_idle

router = APIRouter(prefix="/kiosks", tags=["kiosks"])


class RosterAccount(BaseModel):
    account: str
    name_masked: str
    role: Literal["operator", "vendor", "system_admin", "business_admin"]
    status: Literal["active", "locked", "cancelled"]


class OperatorRoster(BaseModel):
    region_code: str = Field(description="本机所在区划代码；名单为该区划内的账号")
    generated_at: dt.datetime
    operators: list[RosterAccount]


def effective_status(operator: Operator, now: dt.datetime, tz: str) -> str:
    """The status a kiosk applies: an active account past the idle lock of 附件3 (the staff
    rules' own test, whether or not the scheduled lock has run yet) counts as locked."""
    if operator.status != "active":
        return operator.status
    return "locked" if is_idle(last_active(operator, tz), local_date(now, tz)) else "active"


@router.get(
    "/operators", response_model=OperatorRoster, summary="本区划工作人员账号名单（离线维护密码）"
)
def operator_roster(
    request: Request, session: Annotated[Session, Depends(db_session)]
) -> OperatorRoster:
    kiosk = calling_kiosk(request, session)
    region = kiosk.region_code if kiosk is not None else ""
    now = dt.datetime.now(dt.UTC)
    tz = request.app.state.settings.timezone
    operators = []
    if region:
        rows = session.scalars(
            select(Operator)
            .where(Operator.region_code.startswith(region, autoescape=True))
            .order_by(Operator.account)
        )
        operators = [
            RosterAccount(
                account=row.account,
                name_masked=mask_name(row.name),
                role=row.role,
                status=effective_status(row, now, tz),
            )
            for row in rows
        ]
    return OperatorRoster(region_code=region, generated_at=now, operators=operators)
