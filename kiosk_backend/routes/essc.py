"""Electronic social security card (电子社保卡) QR codes: operator sign-in and resident identity.

Codes are signed, live at most 120 s and verify once (:mod:`kiosk_backend.essc_codes`); a
resident's verified code opens an identity session in the same round trip (the answer carries
the identity token, :mod:`kiosk_backend.identity_sessions`). Failed verifications are counted
per kiosk: past ``essc_failure_limit`` in ``essc_failure_window_seconds`` the kiosk gets 429
before anything is checked.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk_backend import essc_codes
from kiosk_backend import identity_sessions as ids
from kiosk_backend.deps import calling_kiosk_id
from kiosk_backend.errors import ApiError
from kiosk_backend.identity import mask_name
from kiosk_backend.models import Operator, Person
from kiosk_backend.routes.identity import IdentityGrant, JoinToken, grant_out
from kiosk_backend.routing import DbSession, Today
from kiosk_backend.schemas import Strict
from kiosk_backend.staff.accounts import check_at_signin

router = APIRouter(tags=["e-SSC"])

Qr = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
CODE_ERRORS = {
    404: {"description": "二维码无法识别（伪造、格式不符或静态码）"},
    422: {"description": "二维码已过期（qr_expired）或已使用过（qr_already_used）"},
    429: {"description": "本机扫码失败次数过多，暂停核验；或确认身份的人数超过限制"},
}


class QrBody(Strict):
    qr: Qr


class ResidentQr(Strict):
    qr: Qr
    role: Literal["resident", "agent"] = Field(
        "resident", description="resident 本人 / agent 代办人"
    )


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
    identity: IdentityGrant = Field(description="本次确认身份签发的身份令牌")


STATUS_MESSAGES = {
    "active": "登录成功",
    "locked": "账号已锁定（3个月未使用或被冻结），请联系县人社局系统管理员解锁",
    "cancelled": "账号已注销，不能登录",
}
CODE_ERROR_STATUS = {"qr_not_recognised": 404, "qr_expired": 422, "qr_already_used": 422}


def _verified(request: Request, session: Session, qr: str, kind: str) -> str:
    """The subject of a valid, unspent code of *kind* (spent now); ApiError otherwise."""
    settings = request.app.state.settings
    kiosk_id = calling_kiosk_id(request)
    now = dt.datetime.now(dt.UTC)
    essc_codes.refuse_if_too_many_failures(
        session,
        kiosk_id,
        now,
        limit=settings.essc_failure_limit,
        window_seconds=settings.essc_failure_window_seconds,
    )
    try:
        return essc_codes.verify(session, qr, kind=kind, kiosk_id=kiosk_id, now=now).subject
    except essc_codes.EsscCodeError as exc:
        _failed(session, kiosk_id, now, settings)
        raise ApiError(CODE_ERROR_STATUS[exc.code], exc.code, exc.message, "qr") from None


def _failed(session: Session, kiosk_id: str, now: dt.datetime, settings) -> None:
    essc_codes.note_failure(
        session, kiosk_id, now, window_seconds=settings.essc_failure_window_seconds
    )


@router.post(
    "/operators/essc-signin",
    response_model=OperatorSignin,
    summary="工作人员电子社保卡扫码登录",
    responses=CODE_ERRORS,
)
def operator_signin(body: QrBody, request: Request, session: DbSession) -> OperatorSignin:
    account = _verified(request, session, body.qr, essc_codes.KIND_OPERATOR)
    operator = session.scalar(select(Operator).where(Operator.account == account))
    if operator is None:
        raise ApiError(404, "qr_not_recognised", essc_codes.unrecognised().message, "qr")
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
    summary="居民电子社保卡核验（同时签发身份令牌）",
    responses={**CODE_ERRORS, 403: {"description": "加入的会话已失效（identity_required）"}},
)
def verify_resident(
    body: ResidentQr,
    request: Request,
    session: DbSession,
    today: Today,
    x_identity_token: JoinToken = None,
) -> ResidentIdentity:
    subject = _verified(request, session, body.qr, essc_codes.KIND_PERSON)
    person = session.get(Person, int(subject)) if subject.isdigit() and len(subject) < 10 else None
    if person is None:
        raise ApiError(404, "qr_not_recognised", essc_codes.unrecognised().message, "qr")
    grant = ids.identify(
        session,
        calling_kiosk_id(request),
        ids.Claim(id_number=person.id_number, evidence=ids.EVIDENCE_ESSC, role=body.role),
        policy=request.app.state.identity_policy,
        now=dt.datetime.now(dt.UTC),
        today=today,
        token=x_identity_token,
    )
    return ResidentIdentity(
        id_number=person.id_number,
        name=person.name,
        gender=person.gender,
        birth_date=person.birth_date,
        identity=grant_out(grant),
    )
