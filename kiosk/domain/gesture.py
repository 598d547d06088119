"""The hidden gesture that opens maintenance sign-in, as a pure recogniser.

The gesture: a long press (≥ :attr:`GestureSpec.long_press_s`, 3 s) in the top-left corner,
then, within :attr:`GestureSpec.sequence_s` (6 s) of lifting that finger, one tap in each corner
clockwise — top-left, top-right, bottom-right, bottom-left. Residents do not stumble on it: any
touch outside the expected corner, a tap held too long, a second finger during the press, or a
timeout starts over.

Feed it every touch as ``(t, x, y, kind)``: *t* in seconds from any monotonic clock, *x*/*y* in
window pixels, *kind* one of ``"down"``, ``"move"``, ``"up"``. Coordinates follow Kivy (origin at
the bottom-left, y upwards) unless the recogniser is built with ``y_up=False``. Corners are
squares whose side is a fraction of the window's shorter side, so the same gesture works in
portrait (1080×1920) and landscape (1920×1080); call :meth:`GestureRecognizer.resize` when the
window changes. Pure and not thread-safe: feed it from the UI thread.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

DOWN = "down"
MOVE = "move"
UP = "up"
KINDS = (DOWN, MOVE, UP)


class Corner(enum.Enum):
    TOP_LEFT = "top-left"
    TOP_RIGHT = "top-right"
    BOTTOM_RIGHT = "bottom-right"
    BOTTOM_LEFT = "bottom-left"


CLOCKWISE = (Corner.TOP_LEFT, Corner.TOP_RIGHT, Corner.BOTTOM_RIGHT, Corner.BOTTOM_LEFT)


class GestureInputError(ValueError):
    """A touch tuple or window size that cannot be interpreted (wrong kind, negative size)."""


@dataclass(frozen=True)
class GestureSpec:
    """Timings in seconds; ``corner_fraction`` of the window's shorter side is a corner's side."""

    long_press_s: float = 3.0
    sequence_s: float = 6.0
    tap_max_s: float = 1.0
    corner_fraction: float = 0.15


class _Phase(enum.Enum):
    IDLE = "idle"
    PRESSING = "pressing"  # finger down in the top-left corner, timing the long press
    TAPPING = "tapping"  # long press done; waiting for the corner taps


class GestureRecognizer:
    """Recognise the maintenance gesture from a stream of touches; see the module docstring."""

    def __init__(
        self,
        width: float,
        height: float,
        spec: GestureSpec | None = None,
        *,
        y_up: bool = True,
    ) -> None:
        self.spec = spec or GestureSpec()
        self._y_up = y_up
        self.resize(width, height)
        self.reset()

    def resize(self, width: float, height: float) -> None:
        """Take a new window size (rotation, resize); a gesture in progress starts over."""
        if not (width > 0 and height > 0):
            raise GestureInputError(f"window size must be positive, got {width}×{height}")
        self._width = float(width)
        self._height = float(height)
        self._side = min(self._width, self._height) * self.spec.corner_fraction
        self.reset()

    def reset(self) -> None:
        """Forget any gesture in progress."""
        self._phase = _Phase.IDLE
        self._press_started = 0.0
        self._sequence_deadline = 0.0
        self._next_tap = 0
        self._tap_down_at: float | None = None
        self._fingers = 0

    def corner_of(self, x: float, y: float) -> Corner | None:
        """The corner that contains the point, or None."""
        top_from_bottom = y >= self._height - self._side
        bottom_from_bottom = y <= self._side
        top, bottom = (
            (top_from_bottom, bottom_from_bottom)
            if self._y_up
            else (bottom_from_bottom, top_from_bottom)
        )
        left = x <= self._side
        right = x >= self._width - self._side
        if top and left:
            return Corner.TOP_LEFT
        if top and right:
            return Corner.TOP_RIGHT
        if bottom and right:
            return Corner.BOTTOM_RIGHT
        if bottom and left:
            return Corner.BOTTOM_LEFT
        return None

    def feed(self, t: float, x: float, y: float, kind: str) -> bool:
        """Take one touch; return True exactly when it completes the gesture (then reset)."""
        if kind not in KINDS:
            raise GestureInputError(f"touch kind must be one of {KINDS}, got {kind!r}")
        if self._phase is _Phase.TAPPING and t > self._sequence_deadline:
            self.reset()
        corner = self.corner_of(x, y)
        if kind == DOWN:
            self._fingers += 1
        elif kind == UP:
            self._fingers = max(0, self._fingers - 1)
        if self._phase is _Phase.IDLE:
            self._idle(t, corner, kind)
            return False
        if self._phase is _Phase.PRESSING:
            self._pressing(t, corner, kind)
            return False
        return self._tapping(t, corner, kind)

    def _idle(self, t: float, corner: Corner | None, kind: str) -> None:
        if kind == DOWN and corner is Corner.TOP_LEFT and self._fingers == 1:
            self._phase = _Phase.PRESSING
            self._press_started = t

    def _pressing(self, t: float, corner: Corner | None, kind: str) -> None:
        if kind == DOWN or corner is not Corner.TOP_LEFT:
            # a second finger, or the finger slid out of the corner
            self._restart_after(kind, corner, t)
            return
        if kind == UP:
            if t - self._press_started >= self.spec.long_press_s:
                self._phase = _Phase.TAPPING
                self._sequence_deadline = t + self.spec.sequence_s
                self._next_tap = 0
                self._tap_down_at = None
            else:
                self.reset()

    def _tapping(self, t: float, corner: Corner | None, kind: str) -> bool:
        expected = CLOCKWISE[self._next_tap]
        if corner is not expected or (kind == DOWN and self._fingers > 1):
            self._restart_after(kind, corner, t)
            return False
        if kind == DOWN:
            self._tap_down_at = t
        elif kind == UP:
            if self._tap_down_at is None or t - self._tap_down_at > self.spec.tap_max_s:
                self.reset()
                return False
            self._tap_down_at = None
            self._next_tap += 1
            if self._next_tap == len(CLOCKWISE):
                self.reset()
                return True
        return False

    def _restart_after(self, kind: str, corner: Corner | None, t: float) -> None:
        """Start over; a fresh single finger down in the top-left corner begins a new press."""
        fingers = self._fingers
        self.reset()
        self._fingers = fingers
        if kind == DOWN and fingers == 1:
            self._idle(t, corner, kind)
