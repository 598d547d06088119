"""The kiosk's start-up after home is first drawn: everything the first frame does not need.

The first frame needs the window, the catalogue and the home screen. The rest — the runtime
(platform client, outbox store with SQLAlchemy and Alembic, devices), the voice, the flow
screens, maintenance mode, the components' start — is built by :class:`DeferredStartup` right
after that frame, by itself, without waiting for a tap: first a *background* part on a thread
of its own (imports and objects with no Kivy in them, so the window keeps drawing), then the
widget *steps* on the UI thread, one per frame. Anything that needs the whole app before that
has finished (a touch) calls :meth:`DeferredStartup.finish_now`, which completes the rest at
once on the UI thread.

A failing part is handed to *on_failure* (the app stops with it, as a failure while building
the app did before): a half-started kiosk must not take a resident's request. UI thread only,
but for the background part.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from kivy.clock import Clock

log = logging.getLogger(__name__)

# Between two UI-thread steps: long enough for Kivy to draw a frame (30 fps) in between.
STEP_GAP_SECONDS = 0.04


class DeferredStartup:
    """Runs *background* on a thread, then each of *steps* (name, callable taking the
    background's result) on the UI thread, one per frame. :attr:`timings_ms` holds each part's
    milliseconds, ``"total"`` from :meth:`begin` to the last step's end."""

    def __init__(
        self,
        background: Callable[[], Any],
        steps: Sequence[tuple[str, Callable[[Any], None]]],
        *,
        on_failure: Callable[[BaseException], None],
    ) -> None:
        self._background = background
        self._steps = list(steps)
        self._on_failure = on_failure
        self._thread: threading.Thread | None = None
        self._result: Any = None
        self._error: BaseException | None = None
        self._began = 0.0
        self._event = None
        self._running = False
        self.done = False
        self.timings_ms: dict[str, float] = {}

    @property
    def begun(self) -> bool:
        return self._thread is not None

    def begin(self) -> None:
        """Start the background part and the steps (UI thread; once; later calls do nothing)."""
        if self._thread is not None or self.done:
            return
        self._began = time.perf_counter()
        self._thread = threading.Thread(target=self._run_background, name="startup", daemon=True)
        self._thread.start()
        self._schedule()

    def finish_now(self) -> None:
        """Complete whatever is left at once (UI thread), waiting for the background part."""
        if self.done or self._running:
            return
        self.begin()
        if self._event is not None:
            self._event.cancel()
        self._thread.join()
        while not self.done:
            self._run_one()

    def join_background(self, timeout: float) -> Any:
        """Wait up to *timeout* s for the background part (at exit: no import cut in half);
        its result, None if it failed or has not ended."""
        if self._thread is not None:
            self._thread.join(timeout)
            if not self._thread.is_alive():
                return self._result
        return None

    def _run_background(self) -> None:
        started = time.perf_counter()
        try:
            self._result = self._background()
        except BaseException as exc:  # handed to the UI thread, which stops the app
            self._error = exc
        self.timings_ms["background"] = _ms_since(started)

    def _schedule(self) -> None:
        self._event = Clock.schedule_once(self._tick, STEP_GAP_SECONDS)

    def _tick(self, _dt: float) -> None:
        if self.done or self._running:
            return
        if self._thread.is_alive():
            self._schedule()
            return
        self._run_one()
        if not self.done:
            self._schedule()

    def _run_one(self) -> None:
        """The next step (the background part must have ended)."""
        if self._error is not None:
            self._fail("background", self._error)
            return
        name, step = self._steps.pop(0)
        started = time.perf_counter()
        self._running = True
        try:
            step(self._result)
        except Exception as exc:
            self._fail(name, exc)
            return
        finally:
            self._running = False
        self.timings_ms[name] = _ms_since(started)
        if not self._steps:
            self.done = True
            self.timings_ms["total"] = _ms_since(self._began)
            log.info(
                "start-up complete",
                extra={"event": "startup", "ms": round(self.timings_ms["total"])},
            )

    def _fail(self, name: str, exc: BaseException) -> None:
        self.done = True
        self._steps.clear()
        log.critical(
            "start-up failed", extra={"event": "startup", "state": f"{name}: {type(exc).__name__}"}
        )
        self._on_failure(exc)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
