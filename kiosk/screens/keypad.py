"""A large on-screen numeric keypad for phone numbers, amounts, counts and dates.

The kiosk has no physical keyboard: every number a resident gives is typed here. The keypad is
a full-window overlay built once and reused; :meth:`KeypadOverlay.open` sets what is asked and
the callback that receives the typed text on 确定. The text goes back unchanged (digits, and a
decimal point for amounts); the form validates it with the item's rules and shows the Chinese
message. UI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.modal import AskingLayer

KV_FILE = Path(__file__).with_suffix(".kv")

# The most characters each kind accepts (a landline with its area code is 12 digits).
MAX_LENGTH = {"phone": 12, "date": 8, "amount": 10, "keypad_number": 18}


def display_text(kind: str, digits: str) -> str:
    """How the typed *digits* read back: 138 1234 5678, 2026年05月0_日, or as typed."""
    if kind == "phone" and digits.startswith("1"):
        parts = [digits[:3], digits[3:7], digits[7:11]]
        return " ".join(p for p in parts if p)
    if kind == "date":
        padded = digits.ljust(8, "_")
        return f"{padded[:4]}年{padded[4:6]}月{padded[6:8]}日"
    return digits


def accept_key(kind: str, digits: str, key: str) -> str:
    """The text after pressing *key* (a digit, ".", "back" or "clear")."""
    if key == "back":
        return digits[:-1]
    if key == "clear":
        return ""
    if key == ".":
        if kind != "amount" or "." in digits or not digits:
            return digits
        return digits + "."
    if not key.isdigit() or len(digits) >= MAX_LENGTH.get(kind, 18):
        return digits
    if kind == "amount" and "." in digits and len(digits.split(".")[1]) >= 2:
        return digits
    return digits + key


def hint_for(kind: str) -> str:
    return {
        "phone": "请输入11位手机号码（固定电话请带区号）",
        "date": "请按 年月日 输入8位数字，例如 20260105",
        "amount": "请输入金额（元），可带两位小数",
    }.get(kind, "请输入数字")


class KeypadOverlay(AskingLayer):
    """The keypad layer: ``title`` (the field's label), the typed ``digits`` and an ``error``."""

    title = StringProperty("")
    kind = StringProperty("keypad_number")
    digits = StringProperty("")
    shown = StringProperty("")
    hint = StringProperty("")
    allow_point = BooleanProperty(False)
    max_length = NumericProperty(18)

    def open(
        self,
        *,
        title: str,
        kind: str,
        value: str,
        on_done: Callable[[str], None],
        on_close: Callable[[], None],
        check: Callable[[str], str] | None = None,
        hint: str = "",
    ) -> None:
        """Ask for *title*; *on_done(text)* on 确定, *on_close()* whenever the keypad closes.

        *check(text)* returns "" when the text is acceptable, else the Chinese reason, which
        the keypad shows while staying open.
        """
        self.title = title
        self.kind = kind
        self.allow_point = kind == "amount"
        self.max_length = MAX_LENGTH.get(kind, 18)
        self.digits = "".join(ch for ch in str(value or "") if ch.isdigit() or ch == ".")
        self.hint = hint or hint_for(kind)
        self.ask(on_done=on_done, on_close=on_close, check=check)
        self._refresh()

    def press(self, key: str) -> None:
        self.digits = accept_key(self.kind, self.digits, key)
        self.error = ""
        self._refresh()

    def confirm(self) -> None:
        self.answer(self.digits)

    def forget(self) -> None:
        self.digits = ""
        self.shown = ""
        self.title = ""

    def _refresh(self) -> None:
        self.shown = display_text(self.kind, self.digits)
