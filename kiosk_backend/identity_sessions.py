"""Identity sessions: proof of who is at the kiosk before any personal data moves.

Identification (an e-SSC code the platform verified, or a card the kiosk read: a social
security card that passed PSAM authentication, a resident ID card read through the SAM) opens
an identity session and gives the kiosk a bearer token. Every person-scoped route carries
:data:`PERSON_SCOPED` (one dependency, :func:`require_identity`): it answers 403
``identity_required`` — before the route runs, so before any person row is read — unless the
``X-Identity-Token`` header names a live session of the calling kiosk that covers every person
in the body (``id_number`` and ``agent.id_number``).

Rules (times from :class:`IdentityPolicy`, set by :class:`~kiosk_backend.settings.ServerSettings`):

- A token lives ``token_seconds`` (at most 15 min) after its last use, and never past the
  session's ``session_max_seconds``; revoked at once by ``DELETE /identity/sessions/current``.
- 代办: a second identification sent with the open session's token JOINS that session, so one
  token covers the agent and the principal — of that session only.
- Evidence kinds (:data:`EVIDENCE_KINDS`) are recorded per person; the platform accepts the kinds
  in ``accepted_evidence`` (a card read the kiosk could not authenticate is refused by default).
  Card evidence is the kiosk's claim (the card was checked at the kiosk); an e-SSC code is
  checked here.
- A late submission (the outbox delivering after the session ended) gets a token that files
  only that submission (its Idempotency-Key) and reads nothing: by :func:`resume` of the
  session it was made in, or by card evidence observed at most ``deferred_hours`` ago.
- Each kiosk may identify at most ``person_limit`` distinct persons per ``person_window``
  (state in the database; identifications of one kiosk are serialised by a row lock, so the
  limit holds with several workers). Over it: 429 with a Chinese message, and one ticket for
  the county desk in the 问题台账 (one open ticket per kiosk: the ledger's unique open-fault key).

Only SHA-256 digests of tokens and of ID numbers are stored here. The ID number digest is a
lookup key, not a secret: the ``persons`` table holds the numbers themselves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi import routing as fastapi_routing
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kiosk_backend import ledger
from kiosk_backend.answers import CLAIM_STATE_KEY
from kiosk_backend.errors import ApiError
from kiosk_backend.identity import InvalidIdNumber, normalize_id_number
from kiosk_backend.identity_models import (
    IdentityMember,
    IdentityPersonSeen,
    IdentitySession,
)
from kiosk_backend.models import IdempotencyRecord, Kiosk

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Identity-Token"
EVIDENCE_ESSC = "essc"
EVIDENCE_SSCARD_PSAM = "sscard_psam"
EVIDENCE_IDCARD_SAM = "idcard_sam"
EVIDENCE_SSCARD_UNAUTHENTICATED = "sscard_unauthenticated"
EVIDENCE_KINDS = (
    EVIDENCE_ESSC,
    EVIDENCE_SSCARD_PSAM,
    EVIDENCE_IDCARD_SAM,
    EVIDENCE_SSCARD_UNAUTHENTICATED,
)
CARD_EVIDENCE_KINDS = (EVIDENCE_SSCARD_PSAM, EVIDENCE_IDCARD_SAM, EVIDENCE_SSCARD_UNAUTHENTICATED)
ROLE_RESIDENT = "resident"
ROLE_AGENT = "agent"
MAX_TOKEN_SECONDS = 15 * 60
PERSON_LIMIT_FAULT_KEY = "security.person_limit"
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")

IDENTITY_REQUIRED_MESSAGE = "请先刷社保卡、放置身份证或扫电子社保卡码确认身份"
PERSON_LIMIT_MESSAGE = "本机查询的人数已超过限制，请稍后再试或到柜台办理；已通知县人社部门"


@dataclass(frozen=True)
class IdentityPolicy:
    """How long tokens live, which evidence counts, and the per-kiosk person limit."""

    token_seconds: int = MAX_TOKEN_SECONDS
    session_max_seconds: int = 3600
    accepted_evidence: frozenset[str] = field(
        default_factory=lambda: frozenset(
            {EVIDENCE_ESSC, EVIDENCE_SSCARD_PSAM, EVIDENCE_IDCARD_SAM}
        )
    )
    deferred_hours: int = 72
    person_limit: int = 30
    person_window_seconds: int = 3600

    def __post_init__(self) -> None:
        if not 1 <= self.token_seconds <= MAX_TOKEN_SECONDS:
            raise ValueError(f"identity token lifetime must be 1-{MAX_TOKEN_SECONDS} s")
        if self.session_max_seconds < self.token_seconds:
            raise ValueError("identity session lifetime must be at least the token lifetime")
        unknown = set(self.accepted_evidence) - set(EVIDENCE_KINDS)
        if unknown:
            raise ValueError(f"unknown evidence kinds: {', '.join(sorted(unknown))}")
        if self.person_limit < 1 or self.person_window_seconds < 1:
            raise ValueError("the person limit and its window must be positive")


@dataclass(frozen=True)
class Grant:
    """What the kiosk gets: the bearer token (shown once), its expiry and the session ref."""

    token: str
    expires_at: dt.datetime
    session_ref: str
    submission_key: str | None = None


@dataclass(frozen=True)
class Claim:
    """One identification to record: who, how, when (``observed_at`` for late submissions)."""

    id_number: str
    evidence: str
    role: str = ROLE_RESIDENT
    observed_at: dt.datetime | None = None


def person_digest(id_number: str) -> str:
    """The lookup key of a canonical ID number (see the module docstring: not a secret)."""
    return hashlib.sha256(id_number.encode("ascii")).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def identity_required() -> ApiError:
    return ApiError(403, "identity_required", IDENTITY_REQUIRED_MESSAGE)


# --- opening, joining, resuming, revoking ---------------------------------------------------------


def identify(
    session: Session,
    kiosk_id: str,
    claim: Claim,
    *,
    policy: IdentityPolicy,
    now: dt.datetime,
    today: dt.date,
    token: str | None = None,
    submission_key: str | None = None,
) -> Grant:
    """Record *claim*: open a session, or join the live session of *token* (代办). Commits.

    Raises ApiError 403 ``evidence_not_accepted`` / ``identity_required`` (a join with a dead
    token), 422 ``invalid_field`` (a late claim without or outside its time), 429
    ``too_many_persons`` (after opening the county's ticket).
    """
    if claim.evidence not in policy.accepted_evidence:
        raise ApiError(403, "evidence_not_accepted", _refused_evidence_message(claim.evidence))
    observed = claim.observed_at or now
    if submission_key is not None:
        _check_late_observation(claim.observed_at, policy, now)
    elif observed > now + dt.timedelta(minutes=5):
        raise ApiError(422, "invalid_field", "识别时间不能晚于现在", "observed_at")
    digest = person_digest(claim.id_number)
    joined = _live_session(session, kiosk_id, token, now) if token else None
    if token and joined is None:
        raise identity_required()
    _count_person(session, kiosk_id, digest, policy, now, today)
    if joined is None:
        new_token, joined = _new_session(
            session, kiosk_id, now, policy.session_max_seconds, submission_key
        )
    else:
        new_token = token
    if session.get(IdentityMember, (joined.id, digest)) is None:
        session.add(
            IdentityMember(
                session_id=joined.id,
                person_digest=digest,
                role=claim.role,
                evidence=claim.evidence,
                observed_at=observed,
            )
        )
    _slide(joined, policy, now)
    session.commit()
    log.info(
        "identity session",
        extra={"event": "identity_open", "state": claim.evidence, "category": claim.role},
    )
    return Grant(new_token, joined.expires_at, joined.ref, joined.submission_key)


def resume(
    session: Session,
    kiosk_id: str,
    session_ref: str,
    submission_key: str,
    *,
    policy: IdentityPolicy,
    now: dt.datetime,
) -> Grant:
    """A token filing only *submission_key*, covering the persons of an earlier session of this
    kiosk (its outbox delivering late). 403 ``identity_required`` when there is no such session
    or it began more than ``deferred_hours`` ago. Commits."""
    earlier = session.scalar(
        select(IdentitySession).where(
            IdentitySession.ref == session_ref, IdentitySession.kiosk_id == kiosk_id
        )
    )
    if earlier is None or earlier.issued_at < now - dt.timedelta(hours=policy.deferred_hours):
        raise identity_required()
    token, resumed = _new_session(
        session, kiosk_id, now, policy.token_seconds, submission_key, resumed_from=earlier.id
    )
    for member in session.scalars(
        select(IdentityMember).where(IdentityMember.session_id == earlier.id)
    ):
        session.add(
            IdentityMember(
                session_id=resumed.id,
                person_digest=member.person_digest,
                role=member.role,
                evidence=member.evidence,
                observed_at=member.observed_at,
            )
        )
    _slide(resumed, policy, now)
    session.commit()
    log.info("identity session resumed", extra={"event": "identity_resume"})
    return Grant(token, resumed.expires_at, resumed.ref, submission_key)


def _new_session(
    session: Session,
    kiosk_id: str,
    now: dt.datetime,
    lifetime_seconds: int,
    submission_key: str | None,
    resumed_from: int | None = None,
) -> tuple[str, IdentitySession]:
    """A fresh session row (flushed) and its bearer token (only the digest is stored)."""
    token = secrets.token_urlsafe(32)
    created = IdentitySession(
        ref=secrets.token_hex(16),
        token_hash=_token_hash(token),
        kiosk_id=kiosk_id,
        issued_at=now,
        expires_at=now,
        ends_at=now + dt.timedelta(seconds=lifetime_seconds),
        submission_key=submission_key,
        resumed_from=resumed_from,
    )
    session.add(created)
    session.flush()
    return token, created


def revoke(session: Session, kiosk_id: str, token: str, now: dt.datetime) -> bool:
    """End the session of *token* if it is this kiosk's; True if one was live. Commits."""
    if not _TOKEN_RE.match(token):
        return False
    live = _live_session(session, kiosk_id, token, now)
    if live is None:
        return False
    live.revoked_at = now
    session.commit()
    log.info("identity session revoked", extra={"event": "identity_revoke"})
    return True


def check(
    session: Session,
    kiosk_id: str,
    token: str | None,
    id_numbers: Iterable[str] | None,
    *,
    policy: IdentityPolicy,
    now: dt.datetime,
    read_only: bool,
    idempotency_key: str,
) -> None:
    """The gate of every person-scoped route (see the module docstring). Commits the slide of
    the token's expiry; raises ApiError 403 ``identity_required``."""
    numbers = list(id_numbers) if id_numbers is not None else []
    if not token or not numbers:
        raise identity_required()
    live = _live_session(session, kiosk_id, token, now)
    if live is None:
        raise identity_required()
    if live.submission_key is not None and (
        read_only or live.submission_key != idempotency_key.lower()
    ):
        raise identity_required()
    covered = set(
        session.scalars(
            select(IdentityMember.person_digest).where(IdentityMember.session_id == live.id)
        )
    )
    if not all(person_digest(n) in covered for n in numbers):
        raise identity_required()
    _slide(live, policy, now)
    session.commit()


def _live_session(
    session: Session, kiosk_id: str, token: str | None, now: dt.datetime
) -> IdentitySession | None:
    if not token or not _TOKEN_RE.match(token):
        return None
    found = session.scalar(
        select(IdentitySession).where(IdentitySession.token_hash == _token_hash(token))
    )
    if (
        found is None
        or found.kiosk_id != kiosk_id
        or found.revoked_at is not None
        or found.expires_at <= now
    ):
        return None
    return found


def _slide(live: IdentitySession, policy: IdentityPolicy, now: dt.datetime) -> None:
    live.expires_at = min(now + dt.timedelta(seconds=policy.token_seconds), live.ends_at)


def _check_late_observation(
    observed_at: dt.datetime | None, policy: IdentityPolicy, now: dt.datetime
) -> None:
    if observed_at is None:
        raise ApiError(422, "invalid_field", "补交办件须说明识别身份的时间", "observed_at")
    if observed_at > now + dt.timedelta(minutes=5):
        raise ApiError(422, "invalid_field", "识别时间不能晚于现在", "observed_at")
    if observed_at < now - dt.timedelta(hours=policy.deferred_hours):
        raise ApiError(
            403, "identity_required", "身份识别已超过补交期限，请本人到柜台办理", "observed_at"
        )


def _refused_evidence_message(evidence: str) -> str:
    if evidence == EVIDENCE_SSCARD_UNAUTHENTICATED:
        return "社保卡未通过本机认证，请放置身份证或扫电子社保卡码"
    return "本平台不接受该方式确认身份，请换用其他方式或到柜台办理"


# --- the per-kiosk person limit ---------------------------------------------------------------------


def _count_person(
    session: Session,
    kiosk_id: str,
    digest: str,
    policy: IdentityPolicy,
    now: dt.datetime,
    today: dt.date,
) -> None:
    """Note *digest* as looked up at the kiosk now; 429 when it would exceed the limit."""
    # A no-op UPDATE takes the kiosk row's lock (PostgreSQL) or the database's write lock
    # (SQLite) until commit: one kiosk's identifications are counted one at a time.
    session.execute(update(Kiosk).where(Kiosk.id == kiosk_id).values(enabled=Kiosk.enabled))
    window_start = now - dt.timedelta(seconds=policy.person_window_seconds)
    seen = session.get(IdentityPersonSeen, (kiosk_id, digest))
    if seen is None or seen.last_seen_at < window_start:
        distinct = session.scalar(
            select(func.count())
            .select_from(IdentityPersonSeen)
            .where(
                IdentityPersonSeen.kiosk_id == kiosk_id,
                IdentityPersonSeen.last_seen_at >= window_start,
            )
        )
        if distinct >= policy.person_limit:
            _raise_person_alarm(session, kiosk_id, policy, now, today)
    if seen is None:
        session.add(IdentityPersonSeen(kiosk_id=kiosk_id, person_digest=digest, last_seen_at=now))
    else:
        seen.last_seen_at = now
    session.execute(
        delete(IdentityPersonSeen).where(
            IdentityPersonSeen.kiosk_id == kiosk_id,
            IdentityPersonSeen.last_seen_at < window_start,
        )
    )


def _raise_person_alarm(
    session: Session,
    kiosk_id: str,
    policy: IdentityPolicy,
    now: dt.datetime,
    today: dt.date,
) -> None:
    minutes = max(1, policy.person_window_seconds // 60)
    _ticket, created = ledger.open_ticket(
        session,
        kiosk_id,
        ledger.NewTicket(
            client_ref=f"identity-limit-{uuid.uuid4().hex}",
            kind="device_fault",
            category="device",
            reporter="system",
            fault_key=PERSON_LIMIT_FAULT_KEY,
            description=f"{minutes}分钟内超过{policy.person_limit}人，已拒绝继续查询",
            occurred_at=now,
        ),
        now=now,
        today=today,
    )
    log.warning(
        "person limit reached",
        extra={"event": "identity_limit", "state": "ticket" if created else "open"},
    )
    raise ApiError(429, "too_many_persons", PERSON_LIMIT_MESSAGE)


# --- the route dependency ---------------------------------------------------------------------------


def _persons_in(body: bytes) -> list[str] | None:
    """Canonical ID numbers of the resident and the agent in a JSON body (None: unusable)."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    raw = [data.get("id_number")]
    agent = data.get("agent")
    if isinstance(agent, dict):
        raw.append(agent.get("id_number"))
    elif agent is not None:
        return None
    numbers = []
    for value in raw:
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > 30:
            return None
        try:
            numbers.append(normalize_id_number(value.strip()))
        except InvalidIdNumber:
            return None
    return numbers or None


def _forget_claim(session: Session, request: Request) -> None:
    """Release the Idempotency-Key claim so a refusal is not stored as the key's answer (the
    kiosk retries the same submission, same key, once it has a token)."""
    claim = request.scope.get("state", {}).get(CLAIM_STATE_KEY)
    if claim is not None:
        session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.kiosk_id == claim[0],
                IdempotencyRecord.key == claim[1],
                IdempotencyRecord.status_code.is_(None),
            )
        )
        session.commit()


def _gate(request: Request, token: str | None, numbers: list[str] | None) -> None:
    state = request.app.state
    route = request.scope.get("route")
    read_only = bool((getattr(route, "openapi_extra", None) or {}).get("x-idempotent"))
    kiosk_id = request.scope.get("state", {}).get("kiosk_id", "")
    with state.sessions() as session:
        try:
            check(
                session,
                kiosk_id,
                token,
                numbers,
                policy=state.identity_policy,
                now=dt.datetime.now(dt.UTC),
                read_only=read_only,
                idempotency_key=request.headers.get("idempotency-key", ""),
            )
        except ApiError:
            session.rollback()
            _forget_claim(session, request)
            raise


async def require_identity(
    request: Request,
    x_identity_token: Annotated[
        str | None,
        Header(
            alias=TOKEN_HEADER,
            description="本人身份确认后平台签发的身份令牌（identity token），"
            "须覆盖请求中的 id_number 与 agent.id_number",
        ),
    ] = None,
) -> None:
    """The dependency of every person-scoped route (see the module docstring)."""
    numbers = _persons_in(await request.body())
    await run_in_threadpool(_gate, request, x_identity_token, numbers)


PERSON_SCOPED = [Depends(require_identity)]
"""``dependencies=`` of a person-scoped route or router: ``@router.post(...,
dependencies=PERSON_SCOPED)``."""


def person_scoped_operations(routes: Iterable[object]) -> set[tuple[str, str]]:
    """``(method, path)`` of every route guarded by :func:`require_identity` (lower-case
    method), for the OpenAPI document and the test that every person route is guarded."""
    found = set()
    for route in _route_contexts(routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None or not any(d.call is require_identity for d in dependant.dependencies):
            continue
        for method in getattr(route, "methods", ()):
            found.add((method.lower(), route.path))
    return found


def _route_contexts(routes: Iterable[object]) -> Iterable[object]:
    # FastAPI 0.16x keeps included routers as one entry each; iter_route_contexts flattens them
    # (older versions list every route with its full path already).
    flatten = getattr(fastapi_routing, "iter_route_contexts", None)
    return flatten(list(routes)) if flatten is not None else routes
