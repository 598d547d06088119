"""Start the GUI: everything that must happen before the first ``import kivy``, then the app.

Order matters and is kept here in one place: data directory → logging → CJK font → display
check → Kivy environment (``KIVY_HOME`` under the data directory, ``KIVY_NO_ARGS``, Kivy's log
records routed into our JSON log) → window size/fullscreen in ``kivy.config`` → import the app.
This module itself imports no Kivy, so ``kiosk run`` can fail with one clear line (no traceback)
when there is no display or no font.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.config import KioskConfig
from kiosk.domain.idle import IdleSettingsError, validate_idle_settings
from kiosk.fonts import FontNotFound, find_cjk_font
from kiosk.logsetup import setup_logging
from kiosk.paths import data_dir as resolve_data_dir

if TYPE_CHECKING:
    from kiosk.app import KioskApp

log = logging.getLogger(__name__)

EXIT_CONFIG = 2
EXIT_NO_DISPLAY = 3
EXIT_NO_FONT = 4

WINDOW_SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
# Tests and the screenshot tour may use idle/prompt periods below the resident-safe floors.
SHORT_TIMERS_ENV = "KIOSK_ALLOW_SHORT_TIMERS"


class StartupError(RuntimeError):
    """The GUI cannot start; ``str()`` is one line for the operator, ``exit_code`` for the shell."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class GuiOptions:
    """How to start the window. ``None`` means "as configured" (``display.*``)."""

    orientation: str | None = None
    fullscreen: bool | None = None
    allow_short_timers: bool = False
    idle_clock: Callable[[], float] = time.monotonic
    # Called on the UI thread once the app has started: every screen built, the components
    # started (after the first frame; the tour and GUI tests drive it).
    on_start: Callable[[KioskApp], None] | None = None
    # Called on the UI thread with seconds since process start when home is first drawn.
    on_first_frame: Callable[[KioskApp, float], None] | None = None
    # The sound mixer (kiosk.services.audio.Mixer); None: SDL2's, kiosk.devices.sound.
    mixer: Any = None
    # Knobs of the runtime (kiosk.services.runtime.RuntimeOptions) for tests and benchmarks,
    # e.g. the demo card kept in-process; None: as the kiosk runs.
    runtime: Any = None


def display_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """Return one line saying why no window can open, or None when a display looks usable.

    X11: ``$DISPLAY`` must be set and ``XOpenDisplay`` must succeed (checked with libX11 through
    ctypes, without Kivy). Wayland: ``$WAYLAND_DISPLAY`` is trusted. ``$SDL_VIDEODRIVER`` set
    (e.g. ``kmsdrm`` on a kiosk without X) is trusted and checked when the window opens.
    """
    environ = os.environ if environ is None else environ
    if environ.get("SDL_VIDEODRIVER") or environ.get("WAYLAND_DISPLAY"):
        return None
    display = environ.get("DISPLAY", "")
    hint = "run it under a virtual one: `xvfb-run -a kiosk run` (or set DISPLAY)"
    if not display:
        return f"no display: DISPLAY is not set; {hint}"
    libx11 = ctypes.util.find_library("X11")
    if libx11 is None:
        return None  # cannot probe; let SDL try and report
    x11 = ctypes.CDLL(libx11)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = x11.XOpenDisplay(display.encode())
    if not handle:
        return f"no display: cannot open X display {display!r}; {hint}"
    x11.XCloseDisplay(handle)
    return None


def prepare_kivy_environment(
    kivy_home: Path, size: tuple[int, int], fullscreen: bool, environ: dict | None = None
) -> None:
    """Set Kivy's environment and window config; must run before ``kivy.core.window`` import.

    Raises RuntimeError if the window module was already imported (the size would be ignored).
    """
    environ = os.environ if environ is None else environ
    if "kivy.core.window" in sys.modules:
        raise RuntimeError("Kivy's window is already created; configure before importing it")
    kivy_home.mkdir(parents=True, exist_ok=True, mode=0o700)
    environ["KIVY_HOME"] = str(kivy_home)
    environ["KIVY_NO_ARGS"] = "1"
    # Kivy's records go to the root logger (our rotated JSON file), not its own files/console.
    environ["KIVY_LOG_MODE"] = "PYTHON"
    environ["KIVY_NO_FILELOG"] = "1"
    environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config

    width, height = size
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "borderless", "1" if fullscreen else "0")
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "position", "custom")
    Config.set("graphics", "left", "0")
    Config.set("graphics", "top", "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    Config.set("graphics", "maxfps", "30")  # a kiosk needs no more; saves CPU on software GL
    # A mouse must not emulate multitouch (red dots on right click), and must go quiet while a
    # touch panel (mtdev/hidinput, found by probesysfs) is in use, or a tap could count twice.
    Config.set("input", "mouse", "mouse,disable_multitouch,disable_on_activity")


def start_gui(config: KioskConfig, options: GuiOptions | None = None) -> int:
    """Run the kiosk GUI until it stops; returns the exit code.

    Raises :class:`StartupError` (one clear line + exit code) when the data directory, font,
    timers or display are unusable. Blocks the calling thread, which becomes Kivy's UI thread.
    """
    options = options or GuiOptions()
    base = resolve_data_dir(config.kiosk.data_dir)
    setup_logging(
        base / "logs",
        level=config.logging.level,
        max_bytes=config.logging.max_bytes,
        backup_count=config.logging.backup_count,
    )
    allow_short = options.allow_short_timers or os.environ.get(SHORT_TIMERS_ENV) == "1"
    try:
        validate_idle_settings(
            config.session.idle_seconds, config.session.prompt_seconds, allow_short=allow_short
        )
    except IdleSettingsError as exc:
        raise StartupError(f"配置错误 / config error: {exc}", EXIT_CONFIG) from None
    try:
        font = find_cjk_font(config.display.font)
    except FontNotFound as exc:
        raise StartupError(f"字体缺失 / font missing: {exc}", EXIT_NO_FONT) from None
    problem = display_problem()
    if problem:
        raise StartupError(problem, EXIT_NO_DISPLAY)
    orientation = options.orientation or config.display.orientation
    fullscreen = config.display.fullscreen if options.fullscreen is None else options.fullscreen
    prepare_kivy_environment(base / "kivy", WINDOW_SIZES[orientation], fullscreen)
    log.info(
        "starting GUI",
        extra={"event": "gui_start", "state": f"{orientation} fullscreen={fullscreen}"},
    )
    from kiosk.app import build_app  # first Kivy import happens here, after the set-up above

    app = build_app(config, font=font, options=options, allow_short_timers=allow_short)
    return _run(app)


def _run(app: Any) -> int:
    try:
        app.run()
    finally:
        app.shutdown_components()
    if app.startup_error is not None:  # the start-up after the first frame failed, as
        raise app.startup_error  # building the app could before: the same error, raised here
    return app.exit_code
