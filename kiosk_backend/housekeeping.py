"""Periodic jobs taken in turns by whichever worker process comes first.

A multi-worker server (:mod:`kiosk_backend.workers`) must not keep "when did I last purge" in
one process: N workers would each purge, and a restarted worker would start over. The time a
job last ran lives in ``housekeeping_turns``; :func:`take_turn` moves it forward with one
conditional UPDATE, which only one concurrent transaction can win (the row lock serialises
them on PostgreSQL, the write lock on SQLite).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk_backend.models import HousekeepingTurn

PURGE_JOB = "purge"


def take_turn(session: Session, job: str, every_seconds: float, now: dt.datetime) -> bool:
    """True if this caller should run *job* now (its last run is *every_seconds* old, or it
    never ran); the turn is committed before returning, so no other worker gets it too."""
    result = session.execute(
        update(HousekeepingTurn)
        .where(
            HousekeepingTurn.job == job,
            or_(
                HousekeepingTurn.last_run_at <= now - dt.timedelta(seconds=every_seconds),
                HousekeepingTurn.last_run_at > now,  # the server's clock was set back
            ),
        )
        .values(last_run_at=now)
    )
    if result.rowcount:
        session.commit()
        return True
    session.rollback()
    if session.get(HousekeepingTurn, job) is not None:
        return False
    session.add(HousekeepingTurn(job=job, last_run_at=now))
    try:
        session.commit()
    except IntegrityError:  # another worker created the row first: its turn
        session.rollback()
        return False
    return True
