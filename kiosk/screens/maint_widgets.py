"""Widgets shared by the maintenance screens: the header with the idle countdown, a status row.

Layout and colours are in ``maint_widgets.kv`` (loaded before the maintenance screens). Tones
map to theme colours that keep AAA contrast on white: ok → green, warn → dark amber, bad →
dark brown-red, info → muted text. UI thread only.
"""

from __future__ import annotations

from pathlib import Path

from kivy.properties import NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.screens.theme import PALETTE

KV_FILE = Path(__file__).with_suffix(".kv")

TONE_COLOURS = {
    "ok": PALETTE.self_service,
    "warn": PALETTE.warning_text,
    "bad": PALETTE.counter,
    "info": PALETTE.text_muted,
}
TONE_MARKS = {"ok": "✓", "warn": "!", "bad": "✗", "info": "·"}


def tone_colour(tone: str):
    """The text colour of *tone* (unknown tones read as info)."""
    return TONE_COLOURS.get(tone, PALETTE.text_muted)


class MaintHeader(BoxLayout):
    """Title bar of a maintenance screen; shows "N秒后自动退出" while ``seconds_left`` > 0."""

    title = StringProperty("")
    seconds_left = NumericProperty(0)


class MaintRow(BoxLayout):
    """One status line: a coloured strip, a title and an optional detail (reused, not rebuilt).

    Not a button; :class:`MaintTapRow` is the tappable kind (``action`` set)."""

    title = StringProperty("")
    detail = StringProperty("")
    tone = StringProperty("info")
    action = StringProperty("")
    state = StringProperty("normal")  # ButtonBehavior's, in MaintTapRow


class MaintTapRow(ButtonBehavior, MaintRow):
    """A row that is a button (outline, chevron, at least the touch-target height)."""
