"""SessionManager: starting, ending, and wiping through listeners (no Kivy)."""

from __future__ import annotations

import logging

from kiosk.services.bus import EventBus
from kiosk.services.session import EndReason, SessionEnded, SessionManager


def test_end_runs_every_listener_even_if_one_fails(caplog):
    """GIVEN a listener that raises WHEN the session ends THEN later listeners still wipe."""
    manager = SessionManager(clock=lambda: 5.0)
    wiped: list[str] = []

    def broken(session, reason):
        raise RuntimeError("screen wipe bug")

    manager.on_end(lambda s, r: wiped.append(f"first:{r.value}"))
    manager.on_end(broken)
    manager.on_end(lambda s, r: wiped.append(f"last:{s.ordinal}"))
    manager.ensure_started()
    with caplog.at_level(logging.ERROR):
        assert manager.end(EndReason.IDLE_TIMEOUT) is True
    assert wiped == ["first:idle_timeout", "last:1"]
    assert "session end listener failed" in caplog.text
    assert manager.current is None


def test_a_failing_listener_is_logged_without_its_message(caplog):
    """The wipe handles the resident's data: a failure's message may quote it, so only the
    exception type and where it happened are logged."""
    manager = SessionManager()

    def broken_wipe(session, reason):
        raise ValueError("cannot clear 王建军 山西省沁源县沁河镇东关村12号")

    manager.on_end(broken_wipe)
    manager.ensure_started()
    with caplog.at_level(logging.ERROR):
        manager.end(EndReason.RESIDENT_HOME)
    assert "ValueError" in caplog.text and "broken_wipe" in caplog.text
    assert "王建军" not in caplog.text and "东关村" not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)


def test_a_failing_bus_handler_is_logged_without_its_message_and_others_still_run(caplog):
    bus = EventBus()
    seen = []

    def broken_handler(event):
        raise KeyError("王建军")

    bus.subscribe(SessionEnded, broken_handler)
    bus.subscribe(SessionEnded, seen.append)
    with caplog.at_level(logging.ERROR):
        bus.publish(SessionEnded(1, EndReason.IDLE_TIMEOUT))
    assert seen == [SessionEnded(1, EndReason.IDLE_TIMEOUT)]
    assert "KeyError" in caplog.text and "broken_handler" in caplog.text
    assert "王建军" not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)


def test_end_without_a_session_does_nothing():
    manager = SessionManager()
    calls = []
    manager.on_end(lambda s, r: calls.append(r))
    assert manager.end(EndReason.RESIDENT_HOME) is False
    assert calls == []


def test_ensure_started_reuses_the_open_session_and_numbers_new_ones():
    manager = SessionManager()
    first = manager.ensure_started()
    assert manager.ensure_started() is first
    manager.end(EndReason.TRANSACTION_DONE)
    assert manager.ensure_started().ordinal == first.ordinal + 1


def test_unsubscribed_listener_is_not_called():
    manager = SessionManager()
    calls = []
    unsubscribe = manager.on_end(lambda s, r: calls.append(r))
    unsubscribe()
    manager.ensure_started()
    manager.end(EndReason.RESIDENT_EXIT)
    assert calls == []


def test_end_is_published_on_the_bus_after_the_wipe():
    bus = EventBus()
    order: list[str] = []
    bus.subscribe(SessionEnded, lambda e: order.append(f"published:{e.reason.value}"))
    manager = SessionManager(publish=bus.publish)
    manager.on_end(lambda s, r: order.append("wiped"))
    manager.ensure_started()
    manager.end(EndReason.CARD_REMOVED)
    assert order == ["wiped", "published:card_removed"]
