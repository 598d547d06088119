"""Drive a running KioskApp from a script: real taps through Kivy's input path, waits, PNGs.

Used by ``kiosk tour`` and by the GUI tests. A script is a generator run on the UI thread; it
yields a number (seconds to wait, letting frames render), :class:`Frames` (wait until that many
frames were drawn) or an :class:`Until` (poll a condition each frame until true, or fail after
its timeout). Taps go through ``EventLoop.post_dispatch_input`` like a real touch panel's
events, with touch-down and touch-up in different frames (in one frame a button never fires).

Taps wait for frames, not for time: a widget has settled when it stayed in place over
consecutive frames, which holds on a fast machine after a few milliseconds and on a loaded one
after as many frames as its layout really needs (a layout step runs in a frame, however late).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.input.motionevent import MotionEvent

log = logging.getLogger(__name__)

Script = Generator[Any, None, None]
POLL_SECONDS = 0.05
TAP_HOLD_SECONDS = 0.12  # a hold asked in seconds (the gesture's long press); taps use frames
SETTLE_SECONDS = 0.15
SETTLED_FRAMES = 3  # frames a widget must stay in place before a tap aims at it
TAP_FRAMES = 2  # frames between touch-down and touch-up


@dataclass(frozen=True)
class Until:
    """Wait until ``condition()`` is true; :class:`ScenarioTimeout` after ``timeout`` seconds."""

    condition: Callable[[], bool]
    timeout: float = 20.0
    what: str | Callable[[], str] = "condition"

    def describe(self) -> str:
        """What was awaited; a callable *what* is asked at the timeout, so it can say what the
        screen showed instead (which overlay was open, which screen was current)."""
        return self.what() if callable(self.what) else self.what


@dataclass(frozen=True)
class Frames:
    """Wait until *count* more frames were drawn (layout triggers run in those frames)."""

    count: int = 1


class ScenarioTimeout(AssertionError):
    """An :class:`Until` condition stayed false for its whole timeout."""


class ScriptTouch(MotionEvent):
    """A single finger at window pixel (x, y), dispatched like a hardware touch."""

    def __init__(self, x: float, y: float) -> None:
        window = EventLoop.window
        super().__init__(
            "ScriptTouch",
            1,
            {"x": x / (window.width - 1.0), "y": y / (window.height - 1.0)},
            is_touch=True,
            type_id="touch",
        )
        self.profile = ["pos"]

    def depack(self, args):
        self.sx = args["x"]
        self.sy = args["y"]
        super().depack(args)


def tap(widget, hold: float | None = None) -> Script:
    """Touch the centre of *widget* and lift it (``yield from tap(w)``): TAP_FRAMES frames
    later, or after *hold* seconds when given (a long press).

    Waits until the widget has stayed in the same place for SETTLED_FRAMES frames first, as a
    finger waits for a screen to stop moving: a screen that just became current is laid out on
    the next frame, and a row above that just got a longer text pushes the rows below it down a
    frame or two later; a touch aimed before that lands on a neighbour.
    """
    x, y = yield from settled_centre(widget)
    yield from tap_at(x, y, hold, settle=False)


def settled_centre(widget, timeout: float = 10.0) -> Script:
    """*widget*'s centre in window pixels once it has stopped moving and is in view, as a
    finger would find it (``x, y = yield from settled_centre(w)``).

    Raises AssertionError when the widget is not on the window, or is still scrolled out of
    its list after *timeout* seconds: a tap there would press whatever lies at that spot.
    """
    deadline = time.monotonic() + timeout
    last, still = None, 0
    while True:
        yield Frames(1)
        name = type(getattr(widget, "__self__", widget)).__name__  # through a kv WeakProxy
        if widget.get_root_window() is None:
            raise AssertionError(f"{name} is not on the window; cannot tap it")
        # x + width / 2, not widget.center: the alias may lag its x/width by a frame.
        here = widget.to_window(widget.x + widget.width / 2, widget.y + widget.height / 2)
        hidden_by = _clipping_ancestor(widget, *here)
        still = still + 1 if here == last and hidden_by is None else 0
        if still >= SETTLED_FRAMES - 1:
            return here
        if time.monotonic() > deadline:
            if hidden_by is not None:
                raise AssertionError(f"{name} is out of view in its {type(hidden_by).__name__}")
            return here
        last = here


def settled(root, timeout: float = 10.0) -> Script:
    """Wait until nothing under *root* moves or resizes between frames, as before a
    screenshot (``yield from settled(app.root_layout)``): text laid out, lists filled, rows
    pushed into place. Gives up quietly after *timeout* seconds (an animation never settles)."""
    deadline = time.monotonic() + timeout
    last, still = None, 0
    while time.monotonic() < deadline:
        yield Frames(1)
        here = [(w.x, w.y, w.width, w.height, w.opacity) for w in root.walk(restrict=True)]
        still = still + 1 if here == last else 0
        if still >= SETTLED_FRAMES - 1:
            return
        last = here


def _clipping_ancestor(widget, x: float, y: float):
    """The scrolling ancestor (ScrollView, RecycleView: a StencilView) whose visible area does
    not contain window point (x, y), or None when the point can be seen."""
    from kivy.uix.stencilview import StencilView

    parent = widget.parent
    while parent is not None and parent.parent is not None and parent is not parent.parent:
        if isinstance(parent, StencilView) and not parent.collide_point(
            *parent.parent.to_widget(x, y)
        ):
            return parent
        parent = parent.parent
    return None


def tap_at(x: float, y: float, hold: float | None = None, *, settle: bool = True) -> Script:
    """Touch window pixel (x, y) (``yield from tap_at(...)``), after the layout settles; lift
    TAP_FRAMES frames later, or after *hold* seconds when given."""
    if settle:
        yield Frames(SETTLED_FRAMES)
    touch = ScriptTouch(x, y)
    EventLoop.post_dispatch_input("begin", touch)
    yield Frames(TAP_FRAMES) if hold is None else hold
    EventLoop.post_dispatch_input("end", touch)
    # Inside a ScrollView a short tap reaches the widget under it 0.2 s after the finger
    # lifted (Kivy replays it once it knows the touch was no scroll): the tap has happened
    # only when no widget holds the touch any more. A next step before that races the
    # replayed release (a picker opened by it, a layer closed by it).
    yield Until(lambda: _released(touch), 5.0, "the tap reached its widget")
    yield Frames(1)


def _released(touch: MotionEvent) -> bool:
    return touch.grab_current is None and not any(ref() for ref in touch.grab_list)


def find_bar_button(screen, button_id: str):
    """The top/bottom bar button *button_id* (back_button, home_button, help_button) of *screen*.

    Raises LookupError when the screen has no bar holding that id.
    """
    from kiosk.screens.widgets import BottomBar, TopBar

    for widget in screen.walk():
        if isinstance(widget, TopBar | BottomBar) and button_id in widget.ids:
            return widget.ids[button_id]
    raise LookupError(f"{screen.name}: no bar button {button_id!r}")


def export_png(widget, path: Path, *, compress_level: int = 6) -> Path:
    """Write *widget* (usually the app's root layout, overlays included) to *path* as RGB PNG.

    The alpha channel is dropped: Kivy's blending leaves the framebuffer's alpha below 1 under
    translucent overlays, while the colour channels already hold what the screen shows. The
    pixels go from the rendered texture to Pillow once (zlib *compress_level* 0–9: 1 is several
    times faster than 6 for a slightly larger file).
    """
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    texture = render_texture(widget)
    picture = Image.frombytes("RGBA", tuple(texture.size), texture.pixels).convert("RGB")
    # GL rows run bottom-up; drawn unflipped so that window-space clips (scissors) still match.
    picture = picture.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    picture.save(path, compress_level=compress_level)
    return path


def render_texture(widget):
    """*widget* drawn offscreen over the window's clear colour, as the glass shows it.

    Kivy's ``export_as_image`` clears to transparent black, but the screens leave the page
    background to the window's clear colour (no full-window rectangle of their own).
    """
    from kivy.core.window import Window
    from kivy.graphics import ClearBuffers, ClearColor, Fbo, Translate

    parent_canvas = widget.parent.canvas if widget.parent is not None else None
    index = parent_canvas.indexof(widget.canvas) if parent_canvas is not None else -1
    if index > -1:
        parent_canvas.remove(widget.canvas)
    fbo = Fbo(size=(int(widget.width), int(widget.height)), with_stencilbuffer=True)
    with fbo:
        ClearColor(*Window.clearcolor)
        ClearBuffers()
        Translate(-widget.x, -widget.y, 0)
    fbo.add(widget.canvas)
    try:
        fbo.draw()
        return fbo.texture
    finally:
        fbo.remove(widget.canvas)
        if index > -1:
            parent_canvas.insert(index, widget.canvas)


class ScenarioRunner:
    """Runs *script* on the UI thread; calls ``on_finish(error_or_None)`` exactly once."""

    def __init__(self, script: Script, on_finish: Callable[[BaseException | None], None]):
        self._script = script
        self._on_finish = on_finish
        self._until: Until | None = None
        self._deadline = 0.0
        self._done = False

    def start(self, delay: float = 0.5) -> None:
        Clock.schedule_once(lambda _dt: self._advance(None), delay)

    def _advance(self, error: BaseException | None) -> None:
        try:
            command = self._script.throw(error) if error else next(self._script)
        except StopIteration:
            self._finish(None)
            return
        except BaseException as exc:  # the scenario failed: report it, never hang the app
            self._finish(exc)
            return
        if isinstance(command, Until):
            self._until = command
            self._deadline = time.monotonic() + command.timeout
            self._schedule_poll(0)
        elif isinstance(command, int | float):
            Clock.schedule_once(lambda _dt: self._advance(None), float(command))
        elif isinstance(command, Frames):
            self._after_frames(max(1, command.count))
        else:
            self._advance(TypeError(f"scenario yielded {command!r}; expected seconds or Until"))

    def _after_frames(self, count: int) -> None:
        # schedule_once(…, 0) runs after the next frame was drawn; one frame per hop.
        if count <= 0:
            self._advance(None)
        else:
            Clock.schedule_once(lambda _dt: self._after_frames(count - 1), 0)

    def _schedule_poll(self, delay: float) -> None:
        # A lambda, not the bound method: Kivy's Clock holds bound methods weakly, and nothing
        # else keeps this runner alive between frames.
        Clock.schedule_once(lambda _dt: self._poll(), delay)

    def _poll(self) -> None:
        until = self._until
        assert until is not None
        try:
            satisfied = bool(until.condition())
        except Exception as exc:
            self._advance(exc)
            return
        if satisfied:
            self._until = None
            self._advance(None)
        elif time.monotonic() > self._deadline:
            self._until = None
            self._advance(
                ScenarioTimeout(f"timed out after {until.timeout:g} s: {until.describe()}")
            )
        else:
            self._schedule_poll(POLL_SECONDS)

    def _finish(self, error: BaseException | None) -> None:
        if self._done:
            return
        self._done = True
        if error is not None:
            log.error("scenario failed: %s", type(error).__name__, exc_info=error)
        self._on_finish(error)
