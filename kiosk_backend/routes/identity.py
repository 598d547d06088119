"""Identity sessions: open (or join, 代办) on a card the kiosk read, resume for a late
submission, revoke when the resident's session ends. Rules: :mod:`kiosk_backend.identity_sessions`.

An e-SSC code opens its session in ``POST /essc/verify`` (:mod:`kiosk_backend.routes.essc`), in
the same round trip that verifies it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field, StringConstraints, field_validator

from kiosk_backend import identity_sessions as ids
from kiosk_backend.deps import calling_kiosk_id
from kiosk_backend.routing import DbSession, Today
from kiosk_backend.schemas import IdNumber, Strict

router = APIRouter(prefix="/identity", tags=["identity"])

CardEvidence = Literal["sscard_psam", "idcard_sam", "sscard_unauthenticated"]
Role = Literal["resident", "agent"]
JOIN_DESCRIPTION = (
    "代办：本次会话已签发的身份令牌。带上它，新确认的人加入同一会话（一个令牌覆盖代办人与本人）"
)
LIMITS = {
    403: {"description": "不接受该证据类型，或加入的会话已失效（identity_required）"},
    429: {"description": "本机在时间窗口内确认身份的人数超过限制（已通知县人社部门）"},
}

JoinToken = Annotated[str | None, Header(alias=ids.TOKEN_HEADER, description=JOIN_DESCRIPTION)]


class CardClaim(Strict):
    """A card the kiosk read and checked: the kiosk's claim of who is standing at it."""

    evidence: CardEvidence = Field(
        description="sscard_psam: 社保卡经 PSAM 认证；idcard_sam: 身份证经 SAM 读取；"
        "sscard_unauthenticated: 社保卡未经认证（平台默认不接受）"
    )
    id_number: IdNumber
    role: Role = Field("resident", description="resident 本人 / agent 代办人")
    observed_at: dt.datetime | None = Field(
        None, description="读卡时间（补交办件时必填，须带时区）；省略 = 现在"
    )
    submission_key: uuid.UUID | None = Field(
        None,
        description="补交：只能提交这一笔办件（其 Idempotency-Key）的令牌，不能查询",
    )

    @field_validator("observed_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("时间需带时区")
        return value


class ResumeRequest(Strict):
    session_ref: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
    submission_key: uuid.UUID


class IdentityGrant(BaseModel):
    """The identity token (send it as X-Identity-Token) and what it is good for."""

    token: str = Field(description="身份令牌；只在此处出现一次")
    expires_at: dt.datetime = Field(description="无操作时的失效时间（每次使用后顺延，最长15分钟）")
    session_ref: str = Field(description="会话编号：本机补交该会话中的办件时使用")
    submission_key: str | None = Field(None, description="补交令牌只能提交的那一笔办件")


def grant_out(grant: ids.Grant) -> IdentityGrant:
    return IdentityGrant(
        token=grant.token,
        expires_at=grant.expires_at,
        session_ref=grant.session_ref,
        submission_key=grant.submission_key,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.post(
    "/sessions",
    response_model=IdentityGrant,
    summary="确认身份（读卡）：签发身份令牌",
    responses=LIMITS,
)
def open_session(
    body: CardClaim,
    request: Request,
    session: DbSession,
    today: Today,
    x_identity_token: JoinToken = None,
) -> IdentityGrant:
    claim = ids.Claim(
        id_number=body.id_number,
        evidence=body.evidence,
        role=body.role,
        observed_at=body.observed_at,
    )
    grant = ids.identify(
        session,
        calling_kiosk_id(request),
        claim,
        policy=request.app.state.identity_policy,
        now=_now(),
        today=today,
        token=x_identity_token,
        submission_key=str(body.submission_key) if body.submission_key else None,
    )
    return grant_out(grant)


@router.post(
    "/sessions/resume",
    response_model=IdentityGrant,
    summary="补交办件：按原会话签发只能提交该笔办件的令牌",
    responses={403: {"description": "没有该会话，或已超过补交期限（identity_required）"}},
)
def resume_session(body: ResumeRequest, request: Request, session: DbSession) -> IdentityGrant:
    grant = ids.resume(
        session,
        calling_kiosk_id(request),
        body.session_ref,
        str(body.submission_key),
        policy=request.app.state.identity_policy,
        now=_now(),
    )
    return grant_out(grant)


@router.delete(
    "/sessions/current",
    status_code=204,
    summary="结束身份会话（拔卡、退出、超时、办结）：令牌立即失效",
    response_class=Response,
)
def revoke_session(
    request: Request,
    session: DbSession,
    x_identity_token: Annotated[
        str, Header(alias=ids.TOKEN_HEADER, description="要失效的身份令牌")
    ],
) -> Response:
    ids.revoke(session, calling_kiosk_id(request), x_identity_token, _now())
    return Response(status_code=204)
