"""BackgroundCalls: results come back on the calling (UI) thread, the spinner appears only for
slow calls, a timeout drops the late answer, and a session end drops every pending answer.

Uses Kivy's Clock without a window (ticked by hand on this thread).
"""

from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")

import pytest
from kivy.clock import Clock

from kiosk.screens.spinner import BackgroundCalls


class Recorder:
    def __init__(self):
        self.events = []
        self.threads = set()

    def __call__(self, name):
        def record(*args):
            self.events.append((name, *args))
            self.threads.add(threading.get_ident())

        return record


def tick_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        Clock.tick()
        time.sleep(0.005)


@pytest.fixture(name="calls")
def calls_fixture():
    record = Recorder()
    Clock.tick()  # Kivy measures delays from the last frame: make it now, as a running app does
    calls = BackgroundCalls(
        spinner_delay=0.3, show_spinner=record("show"), hide_spinner=record("hide")
    )
    yield calls, record
    calls.shutdown()


def outcome(record):
    return [e for e in record.events if e[0] in ("done", "error", "timeout")]


def test_fast_call_delivers_on_the_ui_thread_without_a_spinner():
    record = Recorder()
    Clock.tick()
    # A generous delay: the call finishes long before it, however loaded the machine is.
    calls = BackgroundCalls(
        spinner_delay=5.0, show_spinner=record("show"), hide_spinner=record("hide")
    )
    calls.run(lambda: 42, record("done"), record("error"), on_timeout=record("timeout"))
    tick_until(lambda: outcome(record))
    assert outcome(record) == [("done", 42)]
    assert not [e for e in record.events if e[0] == "show"]
    assert record.threads == {threading.get_ident()}
    calls.shutdown()


def test_slow_call_shows_the_spinner_then_hides_it(calls):
    calls, record = calls
    release = threading.Event()
    calls.run(
        lambda: release.wait(10) and "ok",
        record("done"),
        record("error"),
        on_timeout=record("timeout"),
        text="正在查询",
    )
    tick_until(lambda: ("show", "正在查询") in record.events)
    assert calls.busy
    release.set()
    tick_until(lambda: outcome(record))
    assert outcome(record) == [("done", "ok")]
    assert record.events[-1] == ("hide",) or ("hide",) in record.events
    assert not calls.busy


def test_errors_come_back_as_exceptions(calls):
    calls, record = calls

    def broken():
        raise ValueError("bad")

    calls.run(broken, record("done"), record("error"), on_timeout=record("timeout"))
    tick_until(lambda: outcome(record))
    kind, error = outcome(record)[0]
    assert kind == "error" and isinstance(error, ValueError)


def test_timeout_fires_once_and_the_late_answer_is_dropped(calls):
    calls, record = calls
    release = threading.Event()
    calls.run(
        lambda: release.wait(10) and "late",
        record("done"),
        record("error"),
        on_timeout=record("timeout"),
        timeout=0.5,
    )
    tick_until(lambda: outcome(record))
    release.set()
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        Clock.tick()
        time.sleep(0.01)
    assert outcome(record) == [("timeout",)]


def test_cancel_all_drops_pending_answers(calls):
    calls, record = calls
    release = threading.Event()
    calls.run(
        lambda: release.wait(10) and "for the previous resident",
        record("done"),
        record("error"),
        on_timeout=record("timeout"),
    )
    calls.cancel_all()
    release.set()
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        Clock.tick()
        time.sleep(0.01)
    assert outcome(record) == []
    assert not calls.busy
