"""Move calls from any thread onto Kivy's UI thread, batching bursts into one frame.

The event bus (and later the backend client's thread pool) hands callables to a
:class:`UiDispatcher`; it queues them under a lock and fires one ``Clock.create_trigger`` that
drains the queue on the UI thread before the next frame. A burst of 100 device events thus
costs one wake-up, not 100 scheduled callbacks (the Electrum pattern). Kivy documents its
scheduling methods, triggers included, as safe to call from any thread.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from kivy.clock import Clock

from kiosk.logsetup import failure_summary

log = logging.getLogger(__name__)


class UiDispatcher:
    """``dispatcher(fn)`` from any thread; ``fn()`` later runs on the UI thread, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: deque[Callable[[], None]] = deque()
        self._trigger = Clock.create_trigger(self._drain, -1)

    def __call__(self, call: Callable[[], None]) -> None:
        with self._lock:
            self._pending.append(call)
        self._trigger()

    def _drain(self, _dt: float) -> None:
        with self._lock:
            batch, self._pending = self._pending, deque()
        for call in batch:
            try:
                call()
            except Exception as exc:  # the call may hold a resident's data: no message, no trace
                log.error(
                    "UI call failed: %s", failure_summary(exc), extra={"event": "ui_dispatch"}
                )
