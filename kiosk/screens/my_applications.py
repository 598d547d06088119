"""我的办件: the resident's applications and work orders, with status and due date.

Submissions still waiting in this kiosk's outbox come first (待联网提交); offline only those
are shown, with a note. UI thread only.
"""

from __future__ import annotations

from pathlib import Path

from kivy.properties import ListProperty, StringProperty

from kiosk.screens.flow_base import (
    ROW_LINE_PX,
    ROW_PADDING_PX,
    ROW_TITLE_PX,
    FlowScreen,
    LineFit,
    level_heights,
    result_columns,
    result_line_fit,
)

KV_FILE = Path(__file__).with_suffix(".kv")


def application_data(row, index: int, scale: float, fit: LineFit | None = None) -> dict:
    """RecycleView entry of one ApplicationRow (lines broken to the card by *fit*, if given)."""
    lines = [f"受理编号：{row.reference}", f"提交时间：{row.submitted}"]
    if row.due_text:
        lines.append(f"办结时限：{row.due_text}")
    if row.queue_number:
        lines.append(f"排队号：{row.queue_number}")
    if row.agent_text:
        lines.append(f"代办人：{row.agent_text}")
    extra = f"状态：{row.status_text}" + (f"（{row.result}）" if row.result else "")
    extra_lines = [extra]
    if fit is not None:
        lines, extra_lines = fit.pack(lines, 1), fit.wrap_bold(extra)
    count = len(lines) + len(extra_lines)
    return {
        "index": index,
        "title": row.item_name or "办件",
        "lines": "\n".join(lines),
        "extra": "\n".join(extra_lines),
        "warn": row.pending_upload or row.rejected,
        "ref": -1,
        "height": (ROW_TITLE_PX + ROW_LINE_PX * count + ROW_PADDING_PX) * scale,
    }


class MyApplicationsScreen(FlowScreen):
    """``show(None)``: the identified resident's list; ``show(reference)``: the same with a
    scanned receipt's application first (the note says whether it is theirs)."""

    voice_key = "my_applications"

    note = StringProperty("")
    rows = ListProperty([])

    def show(self, argument) -> None:
        self.clear()
        self.heading = "我的办件"
        self.controller.load_my_applications(self, argument or None)

    def fill(self, mine) -> None:
        from kivy.app import App

        app = App.get_running_app()
        fit = result_line_fit(self.ids.rv, app)
        rows = [application_data(r, i, app.scale, fit) for i, r in enumerate(mine.rows)]
        if mine.focus_found and rows:
            rows[0]["title"] = "【扫码的办件】" + rows[0]["title"]
        self.rows = level_heights(rows, result_columns(app))
        self.note = mine.note

    def open_row(self, index: int) -> None:
        """Rows show everything already."""

    def clear(self) -> None:
        super().clear()
        self.note = ""
        self.rows = []
