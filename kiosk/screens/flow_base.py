"""What the resident-flow screens share: the base class, result rows and error wording.

A :class:`FlowScreen` is built once, receives the services facade like every screen, and gets
its :class:`~kiosk.screens.flow_controller.FlowController` when the controller installs it.
``show(argument)`` fills it (the app calls it again when 返回 comes back to it), ``clear()``
forgets every value it showed. Rows of lists, matches and records are plain dicts for a
RecycleView (:func:`row_data`) so a page of results costs no new widgets. UI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.core.text import DEFAULT_FONT
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.domain.person import IdentityError
from kiosk.domain.prompts import ScreenSpeech
from kiosk.screens.base import KioskScreen
from kiosk.screens.linebreak import break_lines
from kiosk.screens.theme import SIZES
from kiosk.screens.widgets import WRAP_SLACK_PX, text_measurer
from kiosk.services.errors import BackendError
from kiosk.services.flows import FlowError

if TYPE_CHECKING:
    from kiosk.domain.items.views import Row
    from kiosk.screens.flow_controller import FlowController

KV_FILE = Path(__file__).with_suffix(".kv")
TIMEOUT_MESSAGE = "等待时间过长，请稍后再试，或点“请工作人员帮忙”"
UNKNOWN_ERROR_MESSAGE = "操作没有成功，请稍后再试或到柜台办理"
ROW_TITLE_PX = 64
ROW_LINE_PX = 48
ROW_PADDING_PX = 48
CELL_GAP = "　　"  # two ideographic spaces between values sharing a line


def message_of(error: BaseException) -> str:
    """The Chinese sentence to show for *error* (never personal data: the errors carry none)."""
    if isinstance(error, FlowError | IdentityError | BackendError):
        return error.message
    return UNKNOWN_ERROR_MESSAGE


@dataclass(frozen=True)
class LineFit:
    """How result lines fit their card: the text width in pixels and the fonts' real measures.

    With it, :func:`row_data` breaks every line itself (by reading rules, see
    :mod:`kiosk.screens.linebreak`) and sizes the card for the lines it really has, so a long
    value never spills out of its card.
    """

    width: float
    measure: Callable[[str], float]
    measure_bold: Callable[[str], float]

    def pack(self, cells: list[str], per_line: int) -> list[str]:
        """Up to *per_line* cells on a line while they fit; each line broken to the width."""
        packed: list[str] = []
        current: list[str] = []
        for cell in cells:
            candidate = CELL_GAP.join([*current, cell])
            if current and (len(current) >= per_line or self.measure(candidate) > self.width):
                packed.append(CELL_GAP.join(current))
                current = []
            current.append(cell)
        if current:
            packed.append(CELL_GAP.join(current))
        return [piece for line in packed for piece in break_lines(line, self.width, self.measure)]

    def wrap_bold(self, text: str) -> list[str]:
        return break_lines(text, self.width, self.measure_bold)


def row_data(
    row: Row, index: int, *, scale: float, columns: int = 1, fit: LineFit | None = None
) -> dict[str, Any]:
    """A RecycleView entry for one result row, its height from its number of lines. With
    *columns* 2 (landscape) two values may share a line. Without *fit* each value is one line
    (tests); with it, lines are packed and broken to the card's width."""
    cells = [f"{cell.label}：{cell.text}" for cell in row.cells]
    extra = ""
    if row.reasons:
        extra = "推荐理由：" + "；".join(row.reasons)
    if row.failed:
        extra = "发放失败：" + (row.failure_reason or "原因请到柜台查询")
    per_line = max(1, columns)
    if fit is None:
        lines = [CELL_GAP.join(cells[i : i + per_line]) for i in range(0, len(cells), per_line)]
        extra_lines = [extra] if extra else []
    else:
        lines = fit.pack(cells, per_line)
        extra_lines = fit.wrap_bold(extra) if extra else []
    count = len(lines) + len(extra_lines)
    return {
        "index": index,
        "title": row.title,
        "lines": "\n".join(lines),
        "extra": "\n".join(extra_lines),
        "warn": row.failed,
        "ref": row.ref if row.ref is not None else -1,
        "height": (ROW_TITLE_PX + ROW_LINE_PX * count + ROW_PADDING_PX) * scale,
    }


def level_heights(rows: list[dict[str, Any]], columns: int) -> list[dict[str, Any]]:
    """Cards side by side get the height of the tallest of them: a grid row would otherwise
    leave the shorter card hanging at the bottom of the row."""
    for start in range(0, len(rows), max(1, columns)):
        group = rows[start : start + columns]
        tallest = max(row["height"] for row in group)
        for row in group:
            row["height"] = tallest
    return rows


def result_columns(app) -> int:
    """Result cards per row: one in portrait, two side by side in landscape."""
    return 1 if app.portrait else 2


def result_line_fit(result_list, app) -> LineFit:
    """The :class:`LineFit` of a ResultList's cards (see flow_base.kv for the paddings)."""
    from kivy.core.window import Window

    scale, columns = app.scale, result_columns(app)
    outer = result_list.width if result_list.width > 100 else Window.width
    card = (outer - SIZES.padding * scale * 2.2 - SIZES.spacing * scale * (columns - 1)) / columns
    text = card - SIZES.padding * scale * 1.4 - WRAP_SLACK_PX
    size = float(SIZES.text_small * scale)
    return LineFit(
        width=text,
        measure=text_measurer(DEFAULT_FONT, size, False),
        measure_bold=text_measurer(DEFAULT_FONT, size, True),
    )


class ResultRow(ButtonBehavior, BoxLayout):
    """One result: bold title, one line per value, an optional reason/failure line."""

    index = NumericProperty(0)
    title = StringProperty("")
    lines = StringProperty("")
    extra = StringProperty("")
    warn = BooleanProperty(False)
    ref = NumericProperty(-1)


class FlowScreen(KioskScreen):
    """Base of the flow screens: ``heading`` and ``message`` (errors, notes) every one shows."""

    heading = StringProperty("")
    message = StringProperty("")
    # The message is an error of the last step (show_error/show_timeout), not a note.
    failed = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.controller: FlowController | None = None

    def show(self, argument: Any) -> None:
        """Fill the screen for *argument* (an item number unless the subclass says otherwise)."""

    def show_error(self, error: BaseException | str) -> None:
        """Show why the last step failed (a call's error or timeout), and say that it did."""
        self.message = error if isinstance(error, str) else message_of(error)
        self.failed = True
        self.cue("call_failed")

    def show_timeout(self) -> None:
        self.message = TIMEOUT_MESSAGE
        self.failed = True
        self.cue("call_failed")

    def on_message(self, _screen, message: str) -> None:
        if not message:
            self.failed = False

    def speech(self) -> ScreenSpeech:
        """The screen's guidance, and "this step did not work" while an error is shown."""
        keys = (self.voice_key,) if self.voice_key else ()
        return ScreenSpeech(guidance=keys + (("call_failed",) if self.failed else ()))

    def shown_text(self) -> str:
        """Every text the screen's widgets show (tests prove a wipe with it)."""
        parts = []
        for widget in self.walk(restrict=True):
            for name in ("text", "body"):
                value = getattr(widget, name, None)
                if isinstance(value, str):
                    parts.append(value)
        return "\n".join(parts)

    def clear(self) -> None:
        self.heading = ""
        self.message = ""
