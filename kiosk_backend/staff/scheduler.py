"""The platform's housekeeping job, run in the server every ``staff_lock_check_seconds``:
lock accounts idle for more than 3 months (附件3 — also checked at every sign-in), end console
sessions past their idle limit, drop heartbeat history older than :data:`HEARTBEAT_DAYS`.

Runs on its own daemon thread with its own database sessions; each run is idempotent, so
several server workers running it at once do no harm. Errors are logged (no personal data:
account names only) and the next run tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from kiosk_backend.staff.accounts import Actor, lock_idle
from kiosk_backend.staff_models import ConsoleSession, KioskHeartbeat

log = logging.getLogger(__name__)

HEARTBEAT_DAYS = 30
SESSION_IDLE = dt.timedelta(minutes=15)


def run_once(sessions: sessionmaker[Session], tz: str, now: dt.datetime | None = None) -> list[str]:
    """One housekeeping pass; returns the accounts it locked."""
    now = now or dt.datetime.now(dt.UTC)
    with sessions() as session:
        locked = lock_idle(
            session, now.astimezone(ZoneInfo(tz)).date(), actor=Actor.scheduler(), tz=tz
        )
        session.execute(
            delete(ConsoleSession).where(ConsoleSession.last_seen_at < now - SESSION_IDLE)
        )
        session.execute(
            delete(KioskHeartbeat).where(
                KioskHeartbeat.at < now - dt.timedelta(days=HEARTBEAT_DAYS)
            )
        )
        session.commit()
    if locked:
        log.info("idle accounts locked", extra={"event": "staff_lock_idle", "count": len(locked)})
    return locked


class Housekeeping:
    """Start with :meth:`start`, stop with :meth:`stop` (joins the thread)."""

    def __init__(self, sessions: sessionmaker[Session], *, every_seconds: int, tz: str):
        self.sessions = sessions
        self.every = every_seconds
        self.tz = tz
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="platform-housekeeping", daemon=True
        )

    def start(self) -> Housekeeping:
        if self.every > 0:
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                run_once(self.sessions, self.tz)
            except Exception as exc:  # a database hiccup must not end the job
                log.warning("housekeeping run failed: %s", type(exc).__name__)
            self._stop.wait(self.every)
