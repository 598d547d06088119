"""ASGI middleware enforcing the contract's request signing, replay window and idempotency.

Order of checks for every request except the unsigned ones (health, OpenAPI, docs, the public
progress page — :func:`is_public_page`, the console with its own sign-in), cheapest and least
revealing first, so nothing is read for a caller who cannot be a principal:
headers present and well-formed (numbers are ``[0-9]{1,12}``: ``str.isdigit`` would accept
superscripts and other Unicode digits) → timestamp within the skew → principal known and
enabled, and allowed on this path → declared Content-Length within the limit → body read
(bounded) → HMAC over the raw bytes matches → nonce not seen before (stored until it cannot be
replayed). A failure answers 401 ``unauthenticated`` (403 ``forbidden`` for the wrong kind of
principal, 413 for a body over the limit) and the body is never parsed — for an unknown kiosk
or a stale timestamp it is not even read.

Principals are of two kinds (``kiosks.kind``): service-point kiosks and responder desks of the
county / city / province. Desk endpoints (:func:`is_desk_path`) answer 403 ``forbidden`` to a
kiosk, and every other signed endpoint — person lookups included — answers 403 to a desk, so a
desk's credentials can never read a resident's records the way a kiosk does. New routes are
kiosk-only unless they live under a desk prefix. A principal's HMAC secret is stored sealed with
the server key (:mod:`kiosk_backend.server_keys`) and opened per request.

Then every POST needs an ``Idempotency-Key`` (a UUID). POSTs that only read (``x-idempotent``
in the OpenAPI document, :data:`kiosk_backend.routing.READ_ONLY`) are answered afresh each time
and never recorded: their answers are a person's records, and a retry costs only a lookup. For
the others the first answer (2xx/4xx) is stored per (kiosk, key) and replayed for a repeat with
the same body; a different body gets 409 ``idempotency_key_reused``; a repeat while the first is
still running gets 503 with Retry-After (the client retries). 5xx answers are not stored, so a
retry is processed again. What is stored holds nothing personal in clear: the answer is sealed
with the server key (bound to the kiosk and key), and the request is remembered by a keyed hash,
HMAC(server subkey, SHA-256(method, path, query, body)) — a bare hash of a body that holds an ID
number could be searched offline. Answers to POSTs the kiosk delivers through its outbox
(``x-outbox``) are kept 14 days, every other answer one hour (see
:data:`kiosk_backend.settings.OUTBOX_ANSWER_TTL_SECONDS` for why that long and no longer).
Routes that create things store their answer in the same transaction as their rows
(:mod:`kiosk_backend.answers`), so a server dying between commit and answer cannot make a retry
run them twice. For other routes an "in flight" record older than ``STALE_IN_FLIGHT_SECONDS``
(the server died mid-request) is processed again on retry.

All state (nonces, idempotency records, principals) is in the database, so several server
workers can share it. Database work runs in the thread pool; the middleware itself never blocks
the event loop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.logsetup import failure_summary
from kiosk_backend import signing
from kiosk_backend.answers import CLAIM_STATE_KEY, answer_context
from kiosk_backend.errors import error_response, overload_response
from kiosk_backend.housekeeping import PURGE_JOB, take_turn
from kiosk_backend.models import (
    PRINCIPAL_DESK,
    PRINCIPAL_KIOSK,
    IdempotencyRecord,
    Kiosk,
    SeenNonce,
)
from kiosk_backend.provision import kiosk_secret
from kiosk_backend.server_keys import REQUEST_HASH, STORED_ANSWER, SealedDataError, ServerKeys
from kiosk_backend.settings import DIRECT_ANSWER_TTL_SECONDS, OUTBOX_ANSWER_TTL_SECONDS

log = logging.getLogger(__name__)

UNSIGNED_PATHS = frozenset({"/api/v1/health", "/openapi.json", "/docs", "/docs/oauth2-redirect"})
# Public pages, deliberately outside the kiosk contract: the receipts' progress page
# (kiosk_backend.progress) holds no personal data and is opened by phones. One path segment
# after the prefix only, so nothing under /api/v1 can ever be reached through it.
PUBLIC_PAGE_PREFIX = "/progress/"


def is_public_page(path: str) -> bool:
    """True for the unsigned public pages (see PUBLIC_PAGE_PREFIX)."""
    rest = path[len(PUBLIC_PAGE_PREFIX) :] if path.startswith(PUBLIC_PAGE_PREFIX) else ""
    return bool(rest) and "/" not in rest and ".." not in rest


# The staff console authenticates people with its own sessions (kiosk_backend.console.auth);
# a kiosk's or desk's signature opens nothing there.
CONSOLE_PREFIX = "/console"
DESK_PATH_PREFIXES = ("/api/v1/desk/", "/api/v1/ledger/desk/")
DESK_PATHS = frozenset({"/api/v1/ledger/responsibility"})
PRINCIPAL_STATE_KEY = "principal_kind"
STALE_IN_FLIGHT_SECONDS = 120
PURGE_EVERY_SECONDS = 60
NUMBER_RE = re.compile(r"[0-9]{1,12}")
MAX_KIOSK_ID_LENGTH = 64


class _Reject(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(code)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def is_desk_path(path: str) -> bool:
    """True for endpoints only responder desks may call (everything else signed is kiosk-only)."""
    return path in DESK_PATHS or path.startswith(DESK_PATH_PREFIXES)


def _is_console(path: str) -> bool:
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


def _check_principal(kind: str, path: str) -> None:
    if is_desk_path(path):
        if kind != PRINCIPAL_DESK:
            log.info("request refused: kiosk on a desk endpoint")
            raise _Reject(403, "forbidden", "仅县、市、省级责任人可以办理")
    elif kind != PRINCIPAL_KIOSK:
        log.info("request refused: %s on a kiosk endpoint", kind)
        raise _Reject(403, "forbidden", "责任人账号不能使用服务点设备的接口")


def _unauthenticated(reason: str) -> _Reject:
    log.info("request rejected: %s", reason)
    return _Reject(401, "unauthenticated", "设备认证失败，请联系工作人员")


@dataclass(frozen=True)
class PostMarkers:
    """What the contract says about its POSTs (see :func:`post_markers`)."""

    read_only: tuple[re.Pattern[str], ...]
    outbox: frozenset[str]  # "POST <path>" of the POSTs the kiosk delivers through its outbox


def post_markers(routers: Iterable[APIRouter], prefix: str) -> PostMarkers:
    """The POSTs of *routers* (mounted under *prefix*) marked read-only (``x-idempotent``, as
    path patterns) and outbox-delivered (``x-outbox``) in their ``openapi_extra`` — the marks
    the OpenAPI contract publishes. Read from the routes, not from a generated OpenAPI document,
    which costs a second of CPU at start-up (demo mode starts the server beside the UI). An
    outbox path may not hold parameters (stored records are matched by their exact path)."""
    read_only, outbox = [], set()
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and "POST" in route.methods:
                _mark(prefix + route.path, route.openapi_extra or {}, read_only, outbox)
    return PostMarkers(tuple(read_only), frozenset(outbox))


def _mark(path: str, post: dict[str, Any], read_only: list, outbox: set) -> None:
    if post.get("x-idempotent"):
        parts = re.split(r"\{[^/{}]+\}", path)
        read_only.append(re.compile("[^/]+".join(re.escape(p) for p in parts)))
    if post.get("x-outbox"):
        if "{" in path:
            raise ValueError(f"an x-outbox path cannot have parameters: {path}")
        outbox.add(f"POST {path}")


@dataclass(frozen=True)
class _Principal:
    kiosk_id: str
    kind: str
    secret: bytes


class SignedRequestMiddleware:
    """Verify signatures, reject replays, and make POSTs idempotent (see module docstring).

    *keys* opens the principals' sealed secrets and seals stored answers; *markers* say which
    POSTs are never recorded and which answers are kept the long time (:func:`post_markers`).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        sessions: sessionmaker[Session],
        keys: ServerKeys,
        markers: PostMarkers = PostMarkers((), frozenset()),
        clock_skew_seconds: int = 300,
        nonce_ttl_seconds: int = 600,
        max_body_bytes: int = 1_000_000,
        outbox_answer_ttl_seconds: int = OUTBOX_ANSWER_TTL_SECONDS,
        direct_answer_ttl_seconds: int = DIRECT_ANSWER_TTL_SECONDS,
        now: Callable[[], float] = time.time,
    ):
        self.app = app
        self.sessions = sessions
        self.keys = keys
        self.markers = markers
        self.clock_skew = clock_skew_seconds
        self.nonce_ttl = nonce_ttl_seconds
        self.max_body = max_body_bytes
        self.outbox_answer_ttl = dt.timedelta(seconds=outbox_answer_ttl_seconds)
        self.direct_answer_ttl = dt.timedelta(seconds=direct_answer_ttl_seconds)
        self.now = now
        self._last_purge = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._handle(scope, receive, tracked_send)
        except Exception as exc:
            if (busy := overload_response(exc)) is not None:
                if not started:
                    await busy(scope, receive, send)
                return
            # An unexpected error ends here, not in the server's log with its text (which may
            # quote a resident's name or address): its type and place only, then 500.
            log.error(
                "unhandled server error on %s %s: %s",
                scope["method"],
                scope["path"],
                failure_summary(exc),
            )
            if not started:
                await error_response(500, "server_error", "服务器内部错误，请稍后再试")(
                    scope, receive, send
                )

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path in UNSIGNED_PATHS or is_public_page(path) or _is_console(path):
            await self.app(scope, receive, send)
            return
        try:
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            kiosk_id, timestamp, nonce, signature = self._signature_headers(headers)
            now = self.now()
            if abs(now - int(timestamp)) > self.clock_skew:
                raise _unauthenticated("timestamp outside the allowed skew")
            principal = await run_in_threadpool(self._principal, kiosk_id)
            _check_principal(principal.kind, scope["path"])
            self._check_declared_length(headers)
            body = await self._read_body(receive)
            await run_in_threadpool(
                self._verify, scope, principal, timestamp, nonce, signature, body, now
            )
        except _Reject as rejection:
            await error_response(
                rejection.status, rejection.code, rejection.message, headers=rejection.headers
            )(scope, receive, send)
            return
        scope.setdefault("state", {})["kiosk_id"] = kiosk_id
        scope["state"][PRINCIPAL_STATE_KEY] = principal.kind
        replay_receive = _replaying(body, receive)
        if scope["method"] != "POST":
            await self.app(scope, replay_receive, send)
            return
        await self._idempotent(scope, headers, kiosk_id, body, replay_receive, send)

    # --- authentication ---------------------------------------------------------------------

    @staticmethod
    def _signature_headers(headers: dict[str, str]) -> tuple[str, str, str, str]:
        kiosk_id = headers.get("x-kiosk-id", "")
        timestamp = headers.get("x-kiosk-timestamp", "")
        nonce = headers.get("x-kiosk-nonce", "")
        signature = headers.get("x-kiosk-signature", "")
        if not (kiosk_id and timestamp and nonce and signature):
            raise _unauthenticated("missing signature headers")
        if not NUMBER_RE.fullmatch(timestamp):
            raise _unauthenticated("malformed timestamp")
        if not signing.NONCE_RE.fullmatch(nonce) or not signing.SIGNATURE_RE.fullmatch(signature):
            raise _unauthenticated("malformed nonce or signature")
        if len(kiosk_id) > MAX_KIOSK_ID_LENGTH:
            raise _unauthenticated("kiosk id too long")
        return kiosk_id, timestamp, nonce, signature

    def _check_declared_length(self, headers: dict[str, str]) -> None:
        declared = headers.get("content-length")
        if declared is None:
            return  # chunked: _read_body counts
        if not NUMBER_RE.fullmatch(declared):
            raise _Reject(400, "bad_request", "请求格式不正确")
        if int(declared) > self.max_body:
            raise _Reject(413, "payload_too_large", "请求内容太大")

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _Reject(413, "payload_too_large", "请求内容太大")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _principal(self, kiosk_id: str) -> _Principal:
        """The enabled principal *kiosk_id* with its opened secret (401 otherwise)."""
        with self.sessions() as session:
            kiosk = session.get(Kiosk, kiosk_id)
            if kiosk is None or not kiosk.enabled:
                raise _unauthenticated("unknown or disabled kiosk")
            try:
                secret = kiosk_secret(kiosk, self.keys)
            except SealedDataError:
                log.error("a principal's secret does not open with the server key ring")
                raise _unauthenticated("secret sealed under an unknown key") from None
            return _Principal(kiosk.id, kiosk.kind, secret)

    def _verify(
        self,
        scope: Scope,
        principal: _Principal,
        timestamp: str,
        nonce: str,
        signature: str,
        body: bytes,
        now: float,
    ) -> None:
        """Check the signature and spend the nonce (401 otherwise)."""
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        path = raw_path.decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        if not signing.signature_matches(
            principal.secret, signature, scope["method"], path, query, timestamp, nonce, body
        ):
            raise _unauthenticated("bad signature")
        with self.sessions() as session:
            expires = dt.datetime.fromtimestamp(now + self.nonce_ttl, dt.UTC)
            session.add(SeenNonce(kiosk_id=principal.kiosk_id, nonce=nonce, expires_at=expires))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raise _unauthenticated("replayed nonce") from None
            self._maybe_purge(session, now)

    def _maybe_purge(self, session: Session, now: float) -> None:
        # The local stamp only saves a database round trip per request; which of the worker
        # processes purges is decided in the database (one turn per PURGE_EVERY_SECONDS).
        if now - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        current = dt.datetime.fromtimestamp(now, dt.UTC)
        if not take_turn(session, PURGE_JOB, PURGE_EVERY_SECONDS, current):
            return
        session.execute(delete(SeenNonce).where(SeenNonce.expires_at < current))
        session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.created_at < current - self.outbox_answer_ttl
            )
        )
        direct = delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < current - self.direct_answer_ttl
        )
        if self.markers.outbox:
            direct = direct.where(IdempotencyRecord.method_path.not_in(self.markers.outbox))
        session.execute(direct)
        session.commit()

    # --- idempotency ----------------------------------------------------------------------

    async def _idempotent(
        self,
        scope: Scope,
        headers: dict[str, str],
        kiosk_id: str,
        body: bytes,
        receive: Receive,
        send: Send,
    ) -> None:
        key = headers.get("idempotency-key", "")
        try:
            uuid.UUID(key)
        except ValueError:
            message = "缺少 Idempotency-Key" if not key else "Idempotency-Key 应为 UUID"
            await error_response(400, "idempotency_key_required", message)(scope, receive, send)
            return
        if any(pattern.fullmatch(scope["path"]) for pattern in self.markers.read_only):
            await self.app(scope, receive, send)  # a lookup: answered afresh, never recorded
            return
        key = key.lower()
        scope.setdefault("state", {})[CLAIM_STATE_KEY] = (kiosk_id, key)
        method_path = f"POST {scope['path']}"
        request_digest = hashlib.sha256(
            method_path.encode("utf-8") + b"\n" + scope.get("query_string", b"") + b"\n" + body
        ).digest()
        try:
            stored = await run_in_threadpool(
                self._claim, kiosk_id, key, request_digest, method_path
            )
            if stored is not None:
                stored_body = self._open_answer(stored)
        except _Reject as rejection:
            await error_response(
                rejection.status, rejection.code, rejection.message, headers=rejection.headers
            )(scope, receive, send)
            return
        if stored is not None:
            await _send_stored(send, stored, stored_body)
            return
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await run_in_threadpool(self._release, kiosk_id, key)
            raise
        start = next((m for m in captured if m["type"] == "http.response.start"), None)
        status = start["status"] if start else 500
        payload = b"".join(
            m.get("body", b"") for m in captured if m["type"] == "http.response.body"
        )
        if status < 500:
            content_type = _header(start, b"content-type") if start else "application/json"
            await run_in_threadpool(self._store, kiosk_id, key, status, payload, content_type)
        else:
            await run_in_threadpool(self._release, kiosk_id, key)
        for message in captured:
            await send(message)

    def _claim(
        self, kiosk_id: str, key: str, request_digest: bytes, method_path: str
    ) -> IdempotencyRecord | None:
        """Insert an in-flight record; return the stored record if the key was seen before.

        *request_digest* is the SHA-256 of the request; only its keyed hash is stored, and a
        stored hash is compared under every key of the ring (it may predate a rotation).
        """
        request_hash = self.keys.digest(REQUEST_HASH, request_digest)
        with self.sessions() as session:
            for _attempt in range(2):
                session.add(
                    IdempotencyRecord(
                        kiosk_id=kiosk_id,
                        key=key,
                        request_hash=request_hash,
                        method_path=method_path,
                        created_at=dt.datetime.now(dt.UTC),
                    )
                )
                try:
                    session.commit()
                    return None
                except IntegrityError:
                    session.rollback()
                existing = session.get(IdempotencyRecord, (kiosk_id, key))
                if existing is None:  # released meanwhile; claim again
                    continue
                if not _same_request(self.keys, existing.request_hash, request_digest):
                    raise _Reject(
                        409, "idempotency_key_reused", "同一个请求编号已用于不同的内容，请重新提交"
                    )
                if existing.status_code is not None:
                    session.expunge(existing)
                    return existing
                created = existing.created_at
                if created.tzinfo is None:
                    created = created.replace(tzinfo=dt.UTC)
                age = (dt.datetime.now(dt.UTC) - created).total_seconds()
                if age < STALE_IN_FLIGHT_SECONDS:
                    raise _Reject(
                        503,
                        "request_in_progress",
                        "该请求正在处理中，请稍后再试",
                        headers={"Retry-After": "2"},
                    )
                session.delete(existing)
                session.commit()
            raise _Reject(
                503,
                "request_in_progress",
                "该请求正在处理中，请稍后再试",
                headers={"Retry-After": "2"},
            )

    def _store(self, kiosk_id: str, key: str, status: int, body: bytes, content_type: str) -> None:
        sealed = self.keys.seal(STORED_ANSWER, body, answer_context(kiosk_id, key))
        with self.sessions() as session:
            record = session.get(IdempotencyRecord, (kiosk_id, key))
            if record is None or record.status_code is not None:
                return  # released, or the route already stored its answer atomically
            record.status_code = status
            record.response_body = sealed
            record.content_type = content_type or "application/json"
            session.commit()

    def _open_answer(self, record: IdempotencyRecord) -> bytes:
        """The stored answer in clear (500 if it no longer opens: its key left the ring)."""
        if record.response_body is None:
            return b""
        try:
            return self.keys.open(
                STORED_ANSWER, record.response_body, answer_context(record.kiosk_id, record.key)
            )
        except SealedDataError:
            log.error("a stored answer does not open with the server key ring")
            raise _Reject(500, "server_error", "服务器内部错误，请稍后再试") from None

    def _release(self, kiosk_id: str, key: str) -> None:
        with self.sessions() as session:
            session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.kiosk_id == kiosk_id,
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.status_code.is_(None),
                )
            )
            session.commit()


def _header(start: Message, name: bytes) -> str:
    for key, value in start.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _same_request(keys: ServerKeys, stored_hash: str, request_digest: bytes) -> bool:
    return any(
        hmac.compare_digest(stored_hash, candidate)
        for candidate in keys.digests(REQUEST_HASH, request_digest)
    )


async def _send_stored(send: Send, record: IdempotencyRecord, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": record.status_code,
            "headers": [
                (b"content-type", record.content_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode()),
                (b"idempotent-replayed", b"true"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _replaying(body: bytes, original: Receive) -> Receive:
    """A receive callable that hands the already-read body to the app once, then waits for the
    client's disconnect on the original channel (as a server would)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive
