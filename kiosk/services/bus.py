"""A small typed publish/subscribe bus between device threads, services and the UI.

Device drivers publish from their own threads. Subscribers are called on the publishing thread
unless the bus was given a *dispatcher*: the Kivy app passes one that moves each call onto the UI
thread (``Clock.schedule_once``); tests without Kivy leave it synchronous.
Handlers are called outside the lock; an exception in one handler is logged and does not stop
the others.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from kiosk.logsetup import failure_summary

log = logging.getLogger(__name__)

Handler = Callable[[Any], None]
Dispatcher = Callable[[Callable[[], None]], None]


class EventBus:
    def __init__(self, dispatcher: Dispatcher | None = None) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[type, list[Handler]] = defaultdict(list)
        self._dispatcher = dispatcher

    def set_dispatcher(self, dispatcher: Dispatcher | None) -> None:
        self._dispatcher = dispatcher

    def subscribe(self, event_type: type, handler: Handler) -> Callable[[], None]:
        """Call *handler* for every event that is an instance of *event_type*; returns unsubscribe."""
        with self._lock:
            self._handlers[event_type].append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers[event_type]:
                    self._handlers[event_type].remove(handler)

        return unsubscribe

    def publish(self, event: Any) -> None:
        with self._lock:
            handlers = [
                h for etype, hs in self._handlers.items() if isinstance(event, etype) for h in hs
            ]
        for handler in handlers:
            if self._dispatcher is None:
                self._call(handler, event)
            else:
                self._dispatcher(lambda h=handler: self._call(h, event))

    @staticmethod
    def _call(handler: Handler, event: Any) -> None:
        try:
            handler(event)
        except Exception as exc:
            # Events carry card reads: the exception's message may quote what was on the card.
            log.error(
                "event handler failed: %s",
                failure_summary(exc),
                extra={"event": type(event).__name__},
            )
