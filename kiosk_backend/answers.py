"""Commit a route's changes together with its answer, so a repeat can never run it twice.

The signing middleware claims an Idempotency-Key before the route runs and stores the answer
after it. If the server died between the route's commit and that store, a retry would run the
route again. Routes that create things therefore call :func:`commit_with_answer`: the answer is
serialised first and written into the claimed idempotency record in the same transaction as the
business rows. Either both are committed or neither is. The stored copy is sealed with the
server key (:mod:`kiosk_backend.server_keys`), bound to the kiosk and key by
:func:`answer_context`; the answer sent back is the plain one.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from kiosk_backend.models import IdempotencyRecord
from kiosk_backend.server_keys import STORED_ANSWER

CLAIM_STATE_KEY = "idempotency_claim"


def answer_context(kiosk_id: str, key: str) -> bytes:
    """What a sealed answer is bound to: it opens only for this kiosk and Idempotency-Key."""
    return f"{kiosk_id}\0{key}".encode()


def commit_with_answer(
    session: Session, request: Request, answer: BaseModel, status_code: int = 200
) -> Response:
    """Flush, serialise *answer*, record it under the request's claim, commit; return it."""
    session.flush()
    body = answer.model_dump_json().encode("utf-8")
    claim = request.scope.get("state", {}).get(CLAIM_STATE_KEY)
    if claim is not None:
        record = session.get(IdempotencyRecord, claim)
        if record is not None and record.status_code is None:
            keys = request.app.state.server_keys
            record.status_code = status_code
            record.response_body = keys.seal(STORED_ANSWER, body, answer_context(*claim))
            record.content_type = "application/json"
    session.commit()
    return Response(body, status_code=status_code, media_type="application/json")
