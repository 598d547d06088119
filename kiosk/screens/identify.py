"""确认身份: the three ways to identify, drawn, with what the devices report as it happens.

The screen shows 插入社保卡 / 放置身份证 / 扫电子社保卡码 with a picture each, and a status line
the :class:`~kiosk.screens.flow_controller.FlowController` sets from device events (reading…,
card unreadable, ID number invalid, reader offline → use another way). The 代办 toggle switches
to agent mode: the helper identifies first, then the resident; both are shown masked until the
transaction ends. Nothing here reads devices or the backend itself. UI thread only.
"""

from __future__ import annotations

from pathlib import Path

from kivy.graphics import Color, Ellipse, Line, Rectangle, RoundedRectangle, Triangle
from kivy.properties import BooleanProperty, ColorProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.domain.prompts import ScreenSpeech
from kiosk.screens.flow_base import FlowScreen

KV_FILE = Path(__file__).with_suffix(".kv")

# QR modules of the drawn phone screen (a fixed decorative pattern, 7 × 7).
_QR_PATTERN = (
    "1110111",
    "1010001",
    "1110101",
    "0001010",
    "1101111",
    "1000101",
    "1110111",
)


class IdentifyPicture(Widget):
    """A drawing of one way to identify: ``kind`` sscard, idcard or qr; ``dim`` when offline."""

    kind = StringProperty("sscard")
    color = ColorProperty([0, 0, 0, 1])
    detail = ColorProperty([1, 1, 1, 1])
    accent = ColorProperty([0, 0, 1, 1])

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        for name in ("pos", "size", "kind", "color", "detail", "accent"):
            self.fbind(name, self._redraw)

    def _redraw(self, *_args) -> None:
        self.canvas.clear()
        side = min(self.width, self.height)
        if side <= 0:
            return
        # Not self.center_x/center_y: those cached aliases may still hold the old geometry
        # while the size observers (this method) run.
        x0 = self.x + (self.width - side) / 2
        y0 = self.y + (self.height - side) / 2

        def at(fx: float, fy: float) -> tuple[float, float]:
            return (x0 + fx * side, y0 + fy * side)

        def box(fx, fy, fw, fh):
            return {"pos": at(fx, fy), "size": (fw * side, fh * side)}

        with self.canvas:
            {"sscard": self._sscard, "idcard": self._idcard, "qr": self._qr}.get(
                self.kind, self._sscard
            )(at, box, side)

    def _sscard(self, at, box, side):
        # A reader with a slot on top and a card half inserted, an arrow pointing in.
        Color(rgba=self.color)
        RoundedRectangle(radius=[0.05 * side], **box(0.12, 0.04, 0.76, 0.36))
        Color(rgba=self.detail)
        Rectangle(**box(0.22, 0.34, 0.56, 0.03))
        Color(rgba=self.accent)
        RoundedRectangle(radius=[0.04 * side], **box(0.26, 0.35, 0.48, 0.5))
        Color(rgba=self.detail)
        RoundedRectangle(radius=[0.015 * side], **box(0.32, 0.62, 0.12, 0.1))
        Line(points=[*at(0.5, 0.78), *at(0.68, 0.78)], width=side * 0.015)
        Color(rgba=self.color)
        Line(points=[*at(0.88, 0.95), *at(0.88, 0.62)], width=side * 0.025, cap="round")
        Triangle(points=[*at(0.81, 0.66), *at(0.95, 0.66), *at(0.88, 0.55)])

    def _idcard(self, at, box, side):
        # A flat reader pad with an ID card lying on it, an arrow pointing down.
        Color(rgba=self.color)
        RoundedRectangle(radius=[0.05 * side], **box(0.06, 0.06, 0.88, 0.3))
        Color(rgba=self.accent)
        RoundedRectangle(radius=[0.04 * side], **box(0.16, 0.26, 0.68, 0.42))
        Color(rgba=self.detail)
        Ellipse(**box(0.22, 0.38, 0.16, 0.2))
        Line(points=[*at(0.44, 0.54), *at(0.76, 0.54)], width=side * 0.015)
        Line(points=[*at(0.44, 0.44), *at(0.7, 0.44)], width=side * 0.015)
        Line(points=[*at(0.22, 0.32), *at(0.76, 0.32)], width=side * 0.015)
        Color(rgba=self.color)
        Line(points=[*at(0.5, 0.97), *at(0.5, 0.82)], width=side * 0.025, cap="round")
        Triangle(points=[*at(0.43, 0.84), *at(0.57, 0.84), *at(0.5, 0.73)])

    def _qr(self, at, box, side):
        # A phone showing a QR code, held above the scanner window.
        Color(rgba=self.color)
        RoundedRectangle(radius=[0.06 * side], **box(0.27, 0.2, 0.46, 0.78))
        Color(rgba=self.detail)
        Rectangle(**box(0.31, 0.3, 0.38, 0.6))
        Color(rgba=self.color)
        cell = 0.3 / 7
        for row, bits in enumerate(_QR_PATTERN):
            for col, bit in enumerate(bits):
                if bit == "1":
                    Rectangle(**box(0.35 + col * cell, 0.78 - (row + 1) * cell, cell, cell))
        Color(rgba=self.accent)
        RoundedRectangle(radius=[0.03 * side], **box(0.14, 0.02, 0.72, 0.1))


class IdentifyScreen(FlowScreen):
    """Asks for identity; the controller sets ``status`` and the masked identities."""

    item_name = StringProperty("")
    status = StringProperty("")
    status_is_error = BooleanProperty(False)
    agent_mode = BooleanProperty(False)
    resident_text = StringProperty("")
    agent_text = StringProperty("")
    sscard_ok = BooleanProperty(True)
    idcard_ok = BooleanProperty(True)
    scanner_ok = BooleanProperty(True)

    def show(self, argument) -> None:
        """*argument*: the name of the item that needs identity ("" when none)."""
        self.item_name = str(argument or "")
        self.heading = "请确认您的身份"
        self.message = ""
        self.set_status(self.ready_text())
        if not self.sscard_ok:  # a reader already known to be offline: say so at once
            self.set_status("社保卡读卡器暂不可用，请放置身份证或扫电子社保卡码", error=True)
        elif not self.idcard_ok:
            self.set_status("身份证读卡器暂不可用，请插入社保卡或扫电子社保卡码", error=True)

    def ready_text(self) -> str:
        if self.agent_mode and not self.agent_text:
            return "代办：请代办人（您本人）先刷卡、放身份证或扫码"
        if self.agent_mode:
            return "代办人已确认。请用办事人的社保卡、身份证或电子社保卡码"
        return "任选一种方式即可"

    def speech(self) -> ScreenSpeech:
        """The three ways in one sentence; 朗读 adds how to use each way that works now."""
        ways = (
            ("identify_sscard", self.sscard_ok),
            ("identify_idcard", self.idcard_ok),
            ("identify_qr", self.scanner_ok),
        )
        guidance = ("identify", "identify_agent") if self.agent_mode else ("identify",)
        return ScreenSpeech(guidance=guidance, details=tuple(key for key, ok in ways if ok))

    def set_status(self, text: str, *, error: bool = False) -> None:
        self.status = text
        self.status_is_error = error

    def toggle_agent(self) -> None:
        self.controller.toggle_agent_mode()

    def clear(self) -> None:
        """Forget the identities and the mode; reader availability is not personal: kept."""
        super().clear()
        self.item_name = ""
        self.status = ""
        self.status_is_error = False
        self.agent_mode = False
        self.resident_text = ""
        self.agent_text = ""
