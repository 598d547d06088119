"""Shared widgets of every screen: buttons, top/bottom bars, badges, icons, cards, tiles, rows.

Layout and colours live in ``widgets.kv``; this module holds the classes, their properties and
the canvas drawing of the icons (simple shapes, so no image files and no font glyphs are
needed). UI thread only, like all Kivy widgets.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Ellipse, Line, Mesh, Quad, Rectangle, RoundedRectangle, Triangle
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.recycleview import RecycleView
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.screens.linebreak import break_lines
from kiosk.screens.theme import PALETTE

KV_FILE = Path(__file__).with_suffix(".kv")
# Room left at the right edge so Kivy never re-wraps a line we measured as fitting.
WRAP_SLACK_PX = 4
# The window's clear colour: the page background every screen shows (Page draws none itself,
# see widgets.kv).
WINDOW_CLEAR_COLOR = PALETTE.page
# Segments per corner of an outlined rounded rectangle. Kivy's default (45) with round joints
# makes ~1,800 triangles per outline, costly under software GL; 12 draw the same 24 px corner.
OUTLINE_SEGMENTS = 12
# Segments of a full circle drawn as an icon's line (Kivy's default gives ~180 at icon sizes).
ICON_CIRCLE_SEGMENTS = 48


@lru_cache(maxsize=32)
def text_measurer(font_name: str, font_size: float, bold: bool):
    """``measure(text) -> width in px`` with the real metrics of one font face and size."""
    core = CoreLabel(font_name=font_name, font_size=font_size, bold=bold)

    # Wrapping measures the same characters and cells over and over (every row, every page).
    @lru_cache(maxsize=4096)
    def measure(text: str) -> float:
        return core.get_extents(text)[0]

    return measure


class WrapLabel(Label):
    """A Label for Chinese prose: set ``body`` (not ``text``); lines break by reading rules.

    Kivy alone cuts "15年" into "1" / "5年" and may start a line with "，"; this label breaks
    ``body`` with :func:`kiosk.screens.linebreak.break_lines` at its current width and font,
    again whenever either changes (once per frame at most).
    """

    body = StringProperty("")

    def __init__(self, **kwargs) -> None:
        self._trigger_rewrap = Clock.create_trigger(self._rewrap, -1)
        super().__init__(**kwargs)
        for name in ("body", "width", "font_size", "font_name", "bold", "padding"):
            self.fbind(name, self._trigger_rewrap)
        self._trigger_rewrap()

    def _rewrap(self, *_args) -> None:
        available = self.width - self.padding[0] - self.padding[2] - WRAP_SLACK_PX
        measure = text_measurer(self.font_name, float(self.font_size), bool(self.bold))
        self.text = "\n".join(break_lines(self.body, available, measure))


class KioskButton(ButtonBehavior, BoxLayout):
    """A large rounded button with an optional drawn icon before its text.

    ``primary`` False gives the white, outlined secondary style; ``icon`` names a
    :class:`ShapeIcon` kind (empty: text only).
    """

    text = StringProperty("")
    primary = BooleanProperty(True)
    icon = StringProperty("")


class ClipScrollView(ScrollView):
    """A ScrollView that clips its content with the GL scissor box instead of Kivy's stencil
    (a fill of its whole area before and after its content, each frame, under software GL).

    The scissor box is in window pixels: valid while no rotation or scaling sits between the
    window and this view (none in the kiosk; Screens only translate, by nothing).
    """


class ClipRecycleView(RecycleView):
    """A RecycleView clipped like :class:`ClipScrollView`."""


class LogoImage(Image):
    """The county's logo in the top bar, drawn without Kivy's stencil clip (see widgets.kv)."""


class Badge(Label):
    """The 自助办理 / 柜台办理 badge; ``kiosk_runs`` chooses text and colour."""

    kiosk_runs = BooleanProperty(True)


class TopBar(BoxLayout):
    """Service point name (after the county's logo when the assets have one), and 返回 / 首页
    when ``show_nav`` (all screens but home)."""

    show_nav = BooleanProperty(True)


class BottomBar(BoxLayout):
    """The "请工作人员帮忙" and "朗读" buttons and the counter's opening hours."""


class InfoSection(BoxLayout):
    """One 一次性告知 block on a white card: a heading and its wrapped body text."""

    heading = StringProperty("")
    body = StringProperty("")


class CategoryTile(ButtonBehavior, BoxLayout):
    """A home-screen tile for one category; tapping it opens the category's list."""

    category_name = StringProperty("")
    icon_kind = StringProperty("job")
    summary = StringProperty("")
    detail = StringProperty("")


class ItemRow(ButtonBehavior, BoxLayout):
    """One row of a category list (RecycleView view class: properties come from its data)."""

    no = NumericProperty(0)
    name = StringProperty("")
    limit_text = StringProperty("")
    kiosk_runs = BooleanProperty(True)


class ShapeIcon(Widget):
    """An icon drawn from canvas shapes inside the largest centred square of the widget.

    ``kind``: job (briefcase), skill (mortarboard), insurance (shield), card (social security
    card), back, forward, home, help (a person), clock, speaker (朗读). ``color`` draws the
    shape, ``detail`` the cut-outs (usually the background colour behind the icon).
    """

    kind = StringProperty("job")
    color = ColorProperty([0, 0, 0, 1])
    detail = ColorProperty([1, 1, 1, 1])

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.fbind("pos", self._redraw)
        self.fbind("size", self._redraw)
        self.fbind("kind", self._redraw)
        self.fbind("color", self._redraw)
        self.fbind("detail", self._redraw)

    def _redraw(self, *_args) -> None:
        side = min(self.width, self.height)
        x0 = self.x + (self.width - side) / 2
        y0 = self.y + (self.height - side) / 2

        def p(fx: float, fy: float) -> tuple[float, float]:
            return (x0 + fx * side, y0 + fy * side)

        def box(fx: float, fy: float, fw: float, fh: float) -> dict:
            return {"pos": p(fx, fy), "size": (fw * side, fh * side)}

        self.canvas.clear()
        draw = _DRAWERS.get(self.kind)
        if draw is None or side <= 0:
            return
        with self.canvas:
            draw(self, p, box, side)


def _flat(*points: tuple[float, float]) -> list[float]:
    return [c for point in points for c in point]


def _draw_job(icon, p, box, side):
    Color(rgba=icon.color)
    Line(
        rounded_rectangle=(*p(0.34, 0.64), 0.32 * side, 0.2 * side, 0.05 * side), width=side * 0.05
    )
    RoundedRectangle(radius=[0.09 * side], **box(0.08, 0.14, 0.84, 0.56))
    Color(rgba=icon.detail)
    Rectangle(**box(0.08, 0.43, 0.84, 0.04))
    RoundedRectangle(radius=[0.02 * side], **box(0.43, 0.37, 0.14, 0.14))


def _draw_skill(icon, p, box, side):
    Color(rgba=icon.color)
    Quad(points=_flat(p(0.5, 0.86), p(0.97, 0.64), p(0.5, 0.42), p(0.03, 0.64)))
    Quad(points=_flat(p(0.24, 0.52), p(0.76, 0.52), p(0.76, 0.26), p(0.24, 0.26)))
    Ellipse(**box(0.24, 0.16, 0.52, 0.2))
    Line(points=_flat(p(0.86, 0.6), p(0.86, 0.3)), width=side * 0.025)
    Ellipse(**box(0.81, 0.2, 0.1, 0.12))
    Color(rgba=icon.detail)
    Line(points=_flat(p(0.24, 0.5), p(0.5, 0.4), p(0.76, 0.5)), width=side * 0.02)


def _draw_insurance(icon, p, box, side):
    Color(rgba=icon.color)
    outline = [p(0.5, 0.95), p(0.88, 0.82), p(0.86, 0.5), p(0.72, 0.24), p(0.5, 0.05)]
    outline += [p(0.28, 0.24), p(0.14, 0.5), p(0.12, 0.82)]
    centre = p(0.5, 0.52)
    vertices: list[float] = [*centre, 0, 0]
    for point in [*outline, outline[0]]:
        vertices += [*point, 0, 0]
    Mesh(vertices=vertices, indices=list(range(len(vertices) // 4)), mode="triangle_fan")
    Color(rgba=icon.detail)
    Line(points=_flat(p(0.32, 0.52), p(0.45, 0.38), p(0.7, 0.66)), width=side * 0.06, cap="round")


def _draw_card(icon, p, box, side):
    Color(rgba=icon.color)
    RoundedRectangle(radius=[0.08 * side], **box(0.04, 0.18, 0.92, 0.64))
    Color(rgba=icon.detail)
    RoundedRectangle(radius=[0.03 * side], **box(0.13, 0.44, 0.2, 0.17))
    Line(points=_flat(p(0.44, 0.6), p(0.85, 0.6)), width=side * 0.03, cap="round")
    Line(points=_flat(p(0.44, 0.46), p(0.72, 0.46)), width=side * 0.03, cap="round")
    Line(points=_flat(p(0.13, 0.3), p(0.85, 0.3)), width=side * 0.03, cap="round")


def _draw_back(icon, p, box, side):
    Color(rgba=icon.color)
    Line(points=_flat(p(0.66, 0.14), p(0.3, 0.5), p(0.66, 0.86)), width=side * 0.08, cap="round")


def _draw_forward(icon, p, box, side):
    Color(rgba=icon.color)
    Line(points=_flat(p(0.34, 0.14), p(0.7, 0.5), p(0.34, 0.86)), width=side * 0.08, cap="round")


def _draw_home(icon, p, box, side):
    Color(rgba=icon.color)
    Triangle(points=_flat(p(0.5, 0.94), p(0.02, 0.52), p(0.98, 0.52)))
    Rectangle(**box(0.16, 0.06, 0.68, 0.5))
    Color(rgba=icon.detail)
    Rectangle(**box(0.41, 0.06, 0.18, 0.3))


def _draw_help(icon, p, box, side):
    Color(rgba=icon.color)
    Ellipse(**box(0.32, 0.56, 0.36, 0.36))
    RoundedRectangle(radius=[0.2 * side, 0.2 * side, 0, 0], **box(0.14, 0.04, 0.72, 0.46))


def _draw_speaker(icon, p, box, side):
    Color(rgba=icon.color)
    Rectangle(**box(0.06, 0.36, 0.18, 0.28))
    Quad(points=_flat(p(0.22, 0.36), p(0.5, 0.12), p(0.5, 0.88), p(0.22, 0.64)))
    for radius in (0.2, 0.36):  # two sound waves
        Line(
            circle=(*p(0.5, 0.5), radius * side, 55, 125, ICON_CIRCLE_SEGMENTS // 4),
            width=side * 0.05,
            cap="round",
        )


def _draw_clock(icon, p, box, side):
    Color(rgba=icon.color)
    Line(circle=(*p(0.5, 0.5), 0.42 * side, 0, 360, ICON_CIRCLE_SEGMENTS), width=side * 0.06)
    Line(points=_flat(p(0.5, 0.76), p(0.5, 0.5), p(0.7, 0.38)), width=side * 0.06, cap="round")


_DRAWERS = {
    "job": _draw_job,
    "skill": _draw_skill,
    "insurance": _draw_insurance,
    "card": _draw_card,
    "back": _draw_back,
    "forward": _draw_forward,
    "home": _draw_home,
    "help": _draw_help,
    "clock": _draw_clock,
    "speaker": _draw_speaker,
}
ICON_KINDS = tuple(_DRAWERS)
