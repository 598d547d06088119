"""Maintenance sign-in: scan the operator's e-SSC QR, or type the offline maintenance PIN.

Shown after the hidden gesture. The QR arrives as a ``QrScanned`` event (the controller,
:class:`kiosk.screens.maint_mode.MaintenanceMode`, forwards it); the PIN is typed on a large
on-screen keypad and shown only as dots. Errors (wrong PIN with tries left, locked until …,
account locked or cancelled, offline) come back as ``message``. UI thread only.
"""

from __future__ import annotations

from pathlib import Path

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.base import KioskScreen
from kiosk.screens.theme import SIZES
from kiosk.screens.widgets import KioskButton

KV_FILE = Path(__file__).with_suffix(".kv")
PIN_MAX = 12
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "删除", "0", "确定")


class MaintUnlockScreen(KioskScreen):
    """The sign-in screen; ``keys[label]`` are the keypad buttons (tests tap them)."""

    message = StringProperty("")
    tone = StringProperty("info")
    pin_dots = StringProperty("")
    busy = BooleanProperty(False)
    seconds_left = NumericProperty(0)

    def __init__(self, *, maint, **kwargs) -> None:
        super().__init__(**kwargs)
        self.maint = maint
        self._pin = ""
        self.keys: dict[str, KioskButton] = {}
        for label in KEYS:
            button = KioskButton(text=label, primary=label == "确定")
            button.bind(on_release=lambda _b, key=label: self.press(key))
            self.keys[label] = button
            self.ids.keypad.add_widget(button)

    def press(self, key: str) -> None:
        """One keypad press: a digit, 删除 (delete the last digit) or 确定 (sign in)."""
        if self.busy:
            return
        if key == "删除":
            self._pin = self._pin[:-1]
        elif key == "确定":
            if self._pin:
                self.maint.sign_in_with_pin(self._pin)
            return
        elif len(self._pin) < PIN_MAX:
            self._pin += key
        self.pin_dots = "●" * len(self._pin)

    def clear_pin(self) -> None:
        self._pin = ""
        self.pin_dots = ""

    def reset(self) -> None:
        """Fresh screen for a new sign-in (keys at the touch-target floor, so the keypad fits
        a landscape panel too)."""
        from kivy.app import App

        scale = App.get_running_app().scale
        for button in self.keys.values():
            button.height = SIZES.touch_min * scale
        self.clear_pin()
        self.message = ""
        self.tone = "info"
        self.busy = False

    def cancel(self) -> None:
        self.maint.exit_maintenance("unlock_cancelled")

    def clear(self) -> None:
        self.reset()
