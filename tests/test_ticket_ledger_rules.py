"""Property test of the ledger's workflow on a real (SQLite) database: any sequence of desk
actions keeps the rules — levels only move up county → city → province, escalation is refused
only at the province, a closed ticket stays closed, every step leaves an event, and the answer
deadline always matches the holding level's working days."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kiosk.domain.workdays import due_date
from kiosk_backend import ledger
from kiosk_backend.db import make_engine, make_session_factory, migrate
from kiosk_backend.errors import ApiError
from kiosk_backend.ledger_models import LedgerEvent
from kiosk_backend.server_keys import ServerKeys
from kiosk_backend.ticket_routing import ANSWER_WORKING_DAYS, Level, first_level

ORDER = [Level.COUNTY, Level.CITY, Level.PROVINCE]
NOW = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 2)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    """One migrated database with a desk at every level, shared by the examples."""
    directory = tmp_path_factory.mktemp("ledger-rules")
    engine = make_engine(f"sqlite:///{directory / 'ledger.sqlite3'}")
    migrate(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        for level in Level:
            ledger.upsert_responder(
                session,
                f"desk-{level.value}",
                name=level.value,
                role="责任人",
                level=level,
                region_prefix="",
                secret_hex="ab" * 32,
                keys=ServerKeys.generate(),
            )
        session.commit()
    yield sessions
    engine.dispose()


actions = st.lists(
    st.tuples(
        st.sampled_from(["answer", "escalate", "close", "kiosk_close"]),
        st.integers(min_value=0, max_value=40),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["system", "functional", "guidance", "device"]), actions)
def test_any_sequence_of_desk_actions_keeps_the_rules(sessions, category, steps):
    with sessions() as session:
        new = ledger.NewTicket(
            client_ref=uuid.uuid4().hex,
            kind="device_fault" if category == "device" else "problem_report",
            category=category,
            reporter="kiosk" if category == "device" else "operator",
            fault_key=f"printer.k{uuid.uuid4().hex[:8]}" if category == "device" else "",
            description="流程说明不清楚",
        )
        ticket, created = ledger.open_ticket(session, "kiosk-1", new, now=NOW, today=TODAY)
        assert created and ticket.level == first_level(category).value
        expected_events = 2
        closed = False
        for action, days in steps:
            level_before = Level(ticket.level)
            desk = ledger.responder_of(session, f"desk-{ticket.level}")
            try:
                if action == "answer":
                    deadline = TODAY + dt.timedelta(days=days)
                    ledger.answer_ticket(
                        session, desk, ticket.id, "已处理", deadline, now=NOW, today=TODAY
                    )
                    assert ticket.state == "answered" and ticket.feedback_deadline == deadline
                elif action == "escalate":
                    ledger.escalate_ticket(
                        session, desk, ticket.id, "本级无法解决", now=NOW, today=TODAY
                    )
                    assert ORDER.index(Level(ticket.level)) == ORDER.index(level_before) + 1
                    assert ticket.state == "escalated" and ticket.answer_result == ""
                elif action == "close":
                    ledger.close_by_responder(session, desk, ticket.id, "已解决", now=NOW)
                    assert ticket.state == "closed"
                else:
                    ledger.close_from_kiosk(
                        session, "kiosk-1", ticket.client_ref, "", "已恢复", now=NOW
                    )
                    assert ticket.state == "closed"
                if not (closed and action in ("close", "kiosk_close")):
                    expected_events += 1
                closed = closed or action in ("close", "kiosk_close")
            except ApiError as refused:
                session.rollback()
                assert refused.status == 409
                if action == "escalate" and not closed:
                    assert level_before is Level.PROVINCE and refused.code == "cannot_escalate"
                else:
                    assert closed and action in ("answer", "escalate")
            if closed:
                assert ticket.state == "closed" and ticket.open_fault_key is None
            due = due_date(ticket.assigned_on, ANSWER_WORKING_DAYS[Level(ticket.level)])
            assert ticket.answer_due == due.date
            assert ticket.assignee == f"desk-{ticket.level}"
        events = session.scalars(select(LedgerEvent).where(LedgerEvent.ticket_id == ticket.id))
        assert len(events.all()) == expected_events
