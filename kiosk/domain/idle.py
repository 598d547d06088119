"""The idle timer as a pure state machine: ACTIVE → PROMPT (countdown) → EXPIRED.

A resident who stops touching the screen first sees a "继续办理？" prompt with a countdown; one
touch during the prompt returns to ACTIVE, no touch until the countdown ends gives EXPIRED and the
caller ends the session. The timer never reads the time itself: it is driven by an injected
monotonic *clock* (seconds, float) and by :meth:`IdleTimer.poll`, so it runs without Kivy and is
tested with a fake clock. Not thread-safe: call it from one thread (the UI thread in the app).

Floors: :data:`MIN_PROMPT_SECONDS` (20 s) and :data:`MIN_IDLE_SECONDS` (10 s) protect residents
who read slowly; :func:`validate_idle_settings` allows shorter values only with an explicit
``allow_short=True`` (tests and the screenshot tour), never from configuration alone.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

MIN_PROMPT_SECONDS = 20.0
MIN_IDLE_SECONDS = 10.0

Clock = Callable[[], float]


class IdleState(enum.Enum):
    """Where the resident's session stands with respect to inactivity."""

    ACTIVE = "active"
    PROMPT = "prompt"
    EXPIRED = "expired"


class IdleSettingsError(ValueError):
    """Idle or prompt duration is not positive, or below its floor without ``allow_short``."""


@dataclass(frozen=True)
class IdleStatus:
    """A snapshot from :meth:`IdleTimer.poll`: the state and whole seconds left in that state.

    ``seconds_left`` counts down to the prompt while ACTIVE, to expiry while PROMPT (what the
    countdown shows, rounded up so it never shows 0 before expiry), and is 0 when EXPIRED.
    """

    state: IdleState
    seconds_left: int


def validate_idle_settings(
    idle_seconds: float, prompt_seconds: float, *, allow_short: bool = False
) -> None:
    """Raise :class:`IdleSettingsError` naming the setting if a duration is unusable."""
    for name, value, floor in (
        ("session.idle_seconds", idle_seconds, MIN_IDLE_SECONDS),
        ("session.prompt_seconds", prompt_seconds, MIN_PROMPT_SECONDS),
    ):
        if not value > 0:
            raise IdleSettingsError(f"{name} = {value!r} must be a positive number of seconds")
        if value < floor and not allow_short:
            raise IdleSettingsError(
                f"{name} = {value!r} is below the {floor:g} s minimum that gives elderly "
                f"residents time to react (shorter values are for tests only)"
            )


class IdleTimer:
    """Tracks inactivity against an injected clock; see the module docstring for the states.

    *idle_seconds*: quiet time before the prompt; *prompt_seconds*: length of the countdown.
    Raises :class:`IdleSettingsError` for unusable durations (see :func:`validate_idle_settings`).
    """

    def __init__(
        self,
        *,
        idle_seconds: float,
        prompt_seconds: float,
        clock: Clock,
        allow_short: bool = False,
    ) -> None:
        validate_idle_settings(idle_seconds, prompt_seconds, allow_short=allow_short)
        self.idle_seconds = float(idle_seconds)
        self.prompt_seconds = float(prompt_seconds)
        self._clock = clock
        self._state = IdleState.ACTIVE
        self._last_activity = clock()
        self._prompt_started = 0.0

    @property
    def state(self) -> IdleState:
        """The state as of the last :meth:`poll`, :meth:`activity` or :meth:`restart`."""
        return self._state

    def restart(self) -> None:
        """Start counting afresh from now in ACTIVE (a new session, or after expiry)."""
        self._state = IdleState.ACTIVE
        self._last_activity = self._clock()

    def activity(self) -> IdleState:
        """Record a touch or key press; returns the state after it.

        In ACTIVE and PROMPT the count restarts (one touch dismisses the prompt). EXPIRED is
        final: the session is already over, so a late touch does not revive it; the caller
        calls :meth:`restart` when the next session begins.
        """
        if self._state is not IdleState.EXPIRED:
            self.restart()
        return self._state

    def poll(self) -> IdleStatus:
        """Advance the state machine to the clock's current time and return a snapshot.

        The countdown starts at the poll that enters PROMPT, not when the idle period ran out:
        a late poll (a stalled UI thread) never shortens the prompt the resident gets to see,
        and ACTIVE never jumps straight to EXPIRED.
        """
        now = self._clock()
        if self._state is IdleState.ACTIVE:
            prompt_at = self._last_activity + self.idle_seconds
            if now < prompt_at:
                return IdleStatus(IdleState.ACTIVE, _ceil(prompt_at - now))
            self._state = IdleState.PROMPT
            self._prompt_started = now
        if self._state is IdleState.PROMPT:
            expires_at = self._prompt_started + self.prompt_seconds
            if now < expires_at:
                return IdleStatus(IdleState.PROMPT, _ceil(expires_at - now))
            self._state = IdleState.EXPIRED
        return IdleStatus(IdleState.EXPIRED, 0)


def _ceil(seconds: float) -> int:
    """Whole seconds rounded up, so a countdown shows 1 until the very end.

    Rounded to microseconds first: clock arithmetic like ``(t + 60) - t`` may give
    60.00000000000009, which must still show 60, not 61.
    """
    seconds = round(seconds, 6)
    whole = int(seconds)
    return whole if whole == seconds else whole + 1
