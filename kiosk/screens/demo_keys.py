"""Demo mode's keyboard: F1–F7 and F9 play the resident, the operator and the hardware, F8
lists the keys.

F1 插入社保卡 · F2 拔出社保卡 · F3 放置身份证 · F4 取走身份证 · F5 扫描电子社保卡码 (a fresh
code of the next demo resident) · F6 打印机缺纸/装纸 · F7 打开/合上纸仓盖 · F9 扫描工作人员电子
社保卡码 (a fresh code of the next demo operator, for the maintenance sign-in) (the table is
:data:`kiosk.services.demo_controls.ACTIONS`).

:class:`DemoKeys` binds to ``Window.on_keyboard`` (demo mode only: the composition root binds
it only when the runtime has :class:`~kiosk.services.demo_controls.DemoControls`, and only
once the app has started — see :func:`install_demo_keys`). Each key runs
its action on the UI thread — the actions only poke simulators and return at once — and shows
the result for a few seconds in a small :class:`DemoToast` at the top of the window, which
takes no touches. Keys with Ctrl/Alt held, and keys that are not ours, pass through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kivy.clock import Clock
from kivy.graphics import Color, RoundedRectangle
from kivy.uix.label import Label

from kiosk.logsetup import failure_summary
from kiosk.screens.theme import MIN_BODY_TEXT_PX
from kiosk.services.demo_controls import ACTIONS, DemoControls, DemoUnavailable

log = logging.getLogger(__name__)

HELP_KEY = "F8"
TOAST_SECONDS = 4.0
FAILED_MESSAGE = "演示操作失败，请查看日志"
# White on near-black (well above 7:1), unlike any of the kiosk's own surfaces, so a demo
# message is never mistaken for part of the screen.
TOAST_TEXT = (1.0, 1.0, 1.0, 1.0)
TOAST_BACKGROUND = (0.12, 0.12, 0.12, 0.94)
TOAST_TOP_OFFSET_PX = 200  # below the top bar, at a 1080 px short side


def keycode(shortcut: str) -> int:
    """Kivy's key code of a shortcut name such as ``"F1"``."""
    # Imported here: importing kivy.core.window opens the window, which the app does first.
    from kivy.core.window import Keyboard

    return Keyboard.keycodes[shortcut.lower()]


def help_text() -> str:
    """Every shortcut with its label, one per line (what F8 shows)."""
    lines = [f"{action.shortcut}  {action.label}" for action in ACTIONS]
    return "演示模式按键\n" + "\n".join(lines) + f"\n{HELP_KEY}  显示/隐藏本说明"


class DemoToast(Label):
    """A short message near the top, centred; ignores touches so nothing underneath is blocked."""

    def __init__(self, scale: Callable[[], float], **kwargs) -> None:
        super().__init__(
            color=TOAST_TEXT,
            halign="left",
            valign="middle",
            size_hint=(None, None),
            opacity=0,
            **kwargs,
        )
        self._scale = scale
        with self.canvas.before:
            Color(*TOAST_BACKGROUND)
            self._background = RoundedRectangle(radius=[12])
        self.bind(texture_size=self._layout, pos=self._paint, size=self._paint)
        self._hide_event = None

    def show(self, text: str, seconds: float | None = TOAST_SECONDS) -> None:
        """Show *text* (for *seconds*, or until :meth:`hide` when None)."""
        scale = self._scale()
        self.font_size = MIN_BODY_TEXT_PX * scale
        self.padding = (24 * scale, 12 * scale)
        self.text = text
        self.opacity = 1
        if self._hide_event is not None:
            self._hide_event.cancel()
            self._hide_event = None
        if seconds is not None:
            self._hide_event = Clock.schedule_once(lambda _dt: self.hide(), seconds)

    def hide(self) -> None:
        self.opacity = 0
        self.text = ""

    @property
    def shown(self) -> bool:
        return self.opacity > 0

    def on_touch_down(self, touch):
        return False

    def _layout(self, *_args) -> None:
        self.size = self.texture_size
        parent = self.parent
        if parent is not None:
            self.center_x = parent.center_x
            self.top = parent.top - TOAST_TOP_OFFSET_PX * self._scale()

    def _paint(self, *_args) -> None:
        self._background.pos = self.pos
        self._background.size = self.size


class DemoKeys:
    """Maps F1–F8 to *controls*; results go to *show(text, seconds)* (seconds None: until the
    next call; 0 or empty text: hide). Unknown keys pass through. UI thread only."""

    def __init__(
        self,
        controls: DemoControls,
        show: Callable[[str, float | None], None],
        toast: DemoToast | None = None,
    ) -> None:
        self._controls = controls
        self._show = show
        self.toast = toast
        self._by_code = {keycode(action.shortcut): action for action in ACTIONS}
        self._help_code = keycode(HELP_KEY)
        self._help_shown = False
        self._window = None

    def bind(self, window) -> None:
        """Start listening on *window* (Kivy's Window); handlers bound later run first."""
        self._window = window
        window.bind(on_keyboard=self._on_keyboard)
        log.info("demo keys bound", extra={"event": "demo", "state": "F1-F9"})

    def unbind(self) -> None:
        if self._window is not None:
            self._window.unbind(on_keyboard=self._on_keyboard)
            self._window = None

    def _on_keyboard(self, _window, key, _scancode=None, _codepoint=None, modifiers=()):
        if set(modifiers or ()) & {"ctrl", "alt", "meta"}:
            return False
        return self.handle_key(key)

    def handle_key(self, key: int) -> bool:
        """Run the action of *key*; True when the key was one of ours (consumed)."""
        if key == self._help_code:
            self._help_shown = not self._help_shown
            self._show(help_text() if self._help_shown else "", None if self._help_shown else 0)
            return True
        action = self._by_code.get(key)
        if action is None:
            return False
        self._help_shown = False
        try:
            message = self._controls.run(action.key)
        except DemoUnavailable as exc:
            message = str(exc)
        except Exception as exc:  # a demo key must never take the kiosk down
            log.error(
                "demo action failed: %s",
                failure_summary(exc),
                extra={"event": "demo", "state": action.key},
            )
            message = FAILED_MESSAGE
        self._show(f"演示：{message}", TOAST_SECONDS)
        return True


def install_demo_keys(root_layout, controls: DemoControls, scale: Callable[[], float]) -> DemoKeys:
    """Add the toast to *root_layout* and return the (not yet bound) DemoKeys.

    Call from the app's ``build()`` in demo mode only, and ``bind(Window)`` in ``on_start``:
    Kivy's ``App.run`` binds its own F1 handler (the settings panel) after ``build()``, and
    the handler bound last runs first.
    """
    toast = DemoToast(scale)
    root_layout.add_widget(toast)

    def show(text: str, seconds: float | None) -> None:
        if not text or seconds == 0:
            toast.hide()
        else:
            toast.show(text, seconds)

    return DemoKeys(controls, show, toast)
