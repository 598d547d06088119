"""What the resident-flow screens share: the base class, result rows and error wording.

A :class:`FlowScreen` is built once, receives the services facade like every screen, and gets
its :class:`~kiosk.screens.flow_controller.FlowController` when the controller installs it.
``show(argument)`` fills it (the app calls it again when 返回 comes back to it), ``clear()``
forgets every value it showed. Rows of lists, matches and records are plain dicts for a
RecycleView (:func:`row_data`) so a page of results costs no new widgets. UI thread only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.domain.person import IdentityError
from kiosk.screens.base import KioskScreen
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


def message_of(error: BaseException) -> str:
    """The Chinese sentence to show for *error* (never personal data: the errors carry none)."""
    if isinstance(error, FlowError | IdentityError | BackendError):
        return error.message
    return UNKNOWN_ERROR_MESSAGE


def row_data(row: Row, index: int, *, scale: float, columns: int = 1) -> dict[str, Any]:
    """A RecycleView entry for one result row; height from its number of lines (no wrapping:
    each line is cut with … when too long, the detail view shows the full text). With
    *columns* 2 (landscape) two values share a line."""
    cells = [f"{cell.label}：{cell.text}" for cell in row.cells]
    lines = ["　　".join(cells[i : i + columns]) for i in range(0, len(cells), max(1, columns))]
    extra = ""
    if row.reasons:
        extra = "推荐理由：" + "；".join(row.reasons)
    if row.failed:
        extra = "发放失败：" + (row.failure_reason or "原因请到柜台查询")
    count = len(lines) + (1 if extra else 0)
    return {
        "index": index,
        "title": row.title,
        "lines": "\n".join(lines),
        "extra": extra,
        "warn": row.failed,
        "ref": row.ref if row.ref is not None else -1,
        "height": (ROW_TITLE_PX + ROW_LINE_PX * count + ROW_PADDING_PX) * scale,
    }


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

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.controller: FlowController | None = None

    def show(self, argument: Any) -> None:
        """Fill the screen for *argument* (an item number unless the subclass says otherwise)."""

    def show_error(self, error: BaseException | str) -> None:
        """Show why the last step failed (a call's error or timeout)."""
        self.message = error if isinstance(error, str) else message_of(error)

    def show_timeout(self) -> None:
        self.message = TIMEOUT_MESSAGE

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
