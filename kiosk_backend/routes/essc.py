"""Electronic social security card (电子社保卡) QR codes: operator sign-in and resident identity.

The demo platform maps demo QR strings to seeded people (see kiosk_backend.seed.demo); a real
platform verifies the signed token with the national e-SSC service.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, StringConstraints
from sqlalchemy.orm import Session

from kiosk_backend.deps import db_session
from kiosk_backend.errors import ApiError
from kiosk_backend.essc_codes import operator_for_code, resident_for_code
from kiosk_backend.identity import mask_name
from kiosk_backend.schemas import Strict
from kiosk_backend.staff.accounts import check_at_signin

router = APIRouter(tags=["e-SSC"])

Qr = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class QrBody(Strict):
    qr: Qr


class OperatorSignin(BaseModel):
    account: str
    name_masked: str
    role: Literal["operator", "vendor", "system_admin", "business_admin"]
    status: Literal["active", "locked", "cancelled"]
    region: str
    message: str


class ResidentIdentity(BaseModel):
    id_number: str
    name: str
    gender: Literal["male", "female"]
    birth_date: dt.date


STATUS_MESSAGES = {
    "active": "登录成功",
    "locked": "账号已锁定（3个月未使用或被冻结），请联系县人社局系统管理员解锁",
    "cancelled": "账号已注销，不能登录",
}


def _unrecognised() -> ApiError:
    return ApiError(404, "qr_not_recognised", "无法识别该电子社保卡二维码，请刷新后重新出示", "qr")


@router.post(
    "/operators/essc-signin",
    response_model=OperatorSignin,
    summary="工作人员电子社保卡扫码登录",
    openapi_extra={"x-idempotent": True},
)
def operator_signin(
    body: QrBody, session: Annotated[Session, Depends(db_session)]
) -> OperatorSignin:
    operator = operator_for_code(session, body.qr)
    if operator is None:
        raise _unrecognised()
    # 附件3: accounts unused for 3 months (from the last sign-in or creation) are locked.
    check_at_signin(session, operator, dt.datetime.now(dt.UTC))
    session.commit()
    return OperatorSignin(
        account=operator.account,
        name_masked=mask_name(operator.name),
        role=operator.role,
        status=operator.status,
        region=operator.region,
        message=STATUS_MESSAGES[operator.status],
    )


@router.post(
    "/essc/verify",
    response_model=ResidentIdentity,
    summary="居民电子社保卡核验",
    openapi_extra={"x-idempotent": True},
)
def verify_resident(
    body: QrBody, session: Annotated[Session, Depends(db_session)]
) -> ResidentIdentity:
    person = resident_for_code(session, body.qr)
    if person is None:
        raise _unrecognised()
    return ResidentIdentity(
        id_number=person.id_number,
        name=person.name,
        gender=person.gender,
        birth_date=person.birth_date,
    )
