"""Blocking calls off the UI thread, with a spinner after a short delay and a timeout.

:class:`BackgroundCalls` runs each call (a backend request, a card identification, a
submission) on a small thread pool and hands the outcome back on the UI thread through
``Clock.schedule_once``. If the call is still running after ``spinner_delay`` seconds the
:class:`SpinnerOverlay` appears (taps underneath are blocked meanwhile); after ``timeout``
seconds the caller's ``on_timeout`` runs and a late answer is dropped. :meth:`cancel_all`
(called when a session ends) drops every pending answer, so a slow reply can never paint a
finished resident's data onto the next resident's screen.

Threads: :meth:`BackgroundCalls.run` and :meth:`cancel_all` belong to the UI thread; the calls
themselves run on worker threads and must not touch Kivy.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

KV_FILE = Path(__file__).with_suffix(".kv")
DEFAULT_TIMEOUT_SECONDS = 30.0
WORKERS = 3

log = logging.getLogger(__name__)


class SpinnerOverlay(FloatLayout):
    """A dimmed full-window layer with a turning arc and one line of text; eats every touch."""

    text = StringProperty("正在处理，请稍候")
    angle = NumericProperty(0)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._turning = None

    def start_turning(self) -> None:
        if self._turning is None:
            self._turning = Clock.schedule_interval(self._turn, 1 / 20)

    def stop_turning(self) -> None:
        if self._turning is not None:
            self._turning.cancel()
            self._turning = None

    def _turn(self, dt: float) -> None:
        self.angle = math.fmod(self.angle + 360 * dt, 360)

    def on_touch_down(self, touch):
        return True

    def on_touch_move(self, touch):
        return True

    def on_touch_up(self, touch):
        return True


@dataclass(eq=False)
class Ticket:
    """One running call; ``done`` once its outcome was delivered, timed out or cancelled."""

    number: int
    generation: int
    text: str
    done: bool = False
    spinner_event: Any = field(default=None, repr=False)
    timeout_event: Any = field(default=None, repr=False)


class BackgroundCalls:
    """Runs blocking calls on worker threads; see the module docstring.

    *show_spinner(text)* / *hide_spinner()* are called on the UI thread (the app adds and
    removes the overlay). Outcomes: ``on_done(result)``, ``on_error(exception)`` or
    ``on_timeout()``, each on the UI thread, exactly one of them, unless cancelled.
    """

    def __init__(
        self,
        *,
        spinner_delay: float,
        show_spinner: Callable[[str], None],
        hide_spinner: Callable[[], None],
        workers: int = WORKERS,
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ui-call")
        self._spinner_delay = max(0.0, spinner_delay)
        self._show_spinner = show_spinner
        self._hide_spinner = hide_spinner
        self._numbers = itertools.count(1)
        self._generation = 0
        self._active: dict[int, Ticket] = {}
        self._spinning: set[int] = set()

    @property
    def busy(self) -> bool:
        """True while any call is running (UI thread)."""
        return bool(self._active)

    def run(
        self,
        call: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        *,
        on_timeout: Callable[[], None],
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        text: str = "正在处理，请稍候",
    ) -> Ticket:
        """Start *call()* on a worker thread; UI thread only."""
        ticket = Ticket(next(self._numbers), self._generation, text)
        self._active[ticket.number] = ticket
        ticket.spinner_event = Clock.schedule_once(
            lambda _dt: self._spin(ticket), self._spinner_delay
        )
        ticket.timeout_event = Clock.schedule_once(
            lambda _dt: self._timed_out(ticket, on_timeout), timeout
        )
        future = self._pool.submit(call)

        def delivered(fut: Future) -> None:  # worker thread: only schedule
            Clock.schedule_once(lambda _dt: self._finish(ticket, fut, on_done, on_error), 0)

        future.add_done_callback(delivered)
        return ticket

    def cancel_all(self) -> None:
        """Drop every pending outcome (a session ended). UI thread."""
        self._generation += 1
        for ticket in list(self._active.values()):
            self._close(ticket)

    def shutdown(self) -> None:
        """Stop accepting calls; running ones finish in the background (never joined)."""
        self.cancel_all()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _spin(self, ticket: Ticket) -> None:
        if ticket.done:
            return
        self._spinning.add(ticket.number)
        self._show_spinner(ticket.text)

    def _timed_out(self, ticket: Ticket, on_timeout: Callable[[], None]) -> None:
        if ticket.done:
            return
        self._close(ticket)
        log.warning("UI call timed out", extra={"event": "ui_call_timeout"})
        on_timeout()

    def _finish(self, ticket, future: Future, on_done, on_error) -> None:
        if ticket.done or ticket.generation != self._generation:
            return
        self._close(ticket)
        error = future.exception()
        if error is not None:
            on_error(error)
        else:
            on_done(future.result())

    def _close(self, ticket: Ticket) -> None:
        ticket.done = True
        self._active.pop(ticket.number, None)
        for event in (ticket.spinner_event, ticket.timeout_event):
            if event is not None:
                event.cancel()
        self._spinning.discard(ticket.number)
        if not self._spinning:
            self._hide_spinner()
