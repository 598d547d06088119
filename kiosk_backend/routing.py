"""What the routers share: dependency aliases, the read-only marker, filing at the calling kiosk.

A route that files an application takes ``filing: Filing``: one object holding the request's
database session, the request (calling kiosk, idempotency claim) and the county's local date,
with :meth:`KioskFiling.file` and :meth:`KioskFiling.answer` for the two steps every such route
ends with. The kiosk is looked up when the application is filed, not when the request arrives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from kiosk_backend.answers import commit_with_answer
from kiosk_backend.deps import calling_kiosk, db_session, local_today
from kiosk_backend.filing import file_application
from kiosk_backend.models import Application, Person
from kiosk_backend.schemas import Agent

DbSession = Annotated[Session, Depends(db_session)]
Today = Annotated[dt.date, Depends(local_today)]

READ_ONLY = {"x-idempotent": True}
"""``openapi_extra`` of a POST that only reads (a person lookup): the kiosk may retry it, and
its answer is never stored (:mod:`kiosk_backend.security`)."""

OUTBOX = {"x-outbox": True}
"""``openapi_extra`` of a POST the kiosk delivers through its outbox — possibly days later, with
the same Idempotency-Key — so its answer is kept for the long retention
(:data:`kiosk_backend.settings.OUTBOX_ANSWER_TTL_SECONDS`); other answers for the short one."""


@dataclass(frozen=True)
class KioskFiling:
    """The request-scoped pieces a filing route needs (see the module docstring)."""

    session: Session
    request: Request
    today: dt.date

    def file(
        self,
        person: Person,
        agent: Agent | None,
        *,
        item_no: int,
        kind: str,
        details: dict[str, Any],
        **options: Any,
    ) -> Application:
        """File an application at the calling kiosk; the caller answers (and so commits).

        *options*: ``status``, ``queue``, ``result`` as for
        :func:`kiosk_backend.filing.file_application`, which also names the errors raised.
        """
        return file_application(
            self.session,
            person=person,
            item_no=item_no,
            kind=kind,
            details=details,
            kiosk=calling_kiosk(self.request, self.session),
            agent=agent,
            today=self.today,
            **options,
        )

    def answer(self, answer: BaseModel) -> Response:
        """Commit the route's changes together with *answer* and return it."""
        return commit_with_answer(self.session, self.request, answer)


def kiosk_filing(request: Request, session: DbSession, today: Today) -> KioskFiling:
    return KioskFiling(session=session, request=request, today=today)


Filing = Annotated[KioskFiling, Depends(kiosk_filing)]
