"""Record views with totals and a year filter: items 25, 26, 27, 33, 36.

The year chips (全部 and each year present) refilter; totals cover exactly the rows shown;
a failed payment is highlighted with its reason. Personal records are fetched at each visit and
never cached; the screen forgets them when the session ends. UI thread only.
"""

from __future__ import annotations

from pathlib import Path

from kivy.properties import ListProperty, NumericProperty, StringProperty

from kiosk.domain.items.views import RecordsView
from kiosk.screens.flow_base import (
    FlowScreen,
    level_heights,
    result_columns,
    result_line_fit,
    row_data,
)

KV_FILE = Path(__file__).with_suffix(".kv")
MAX_YEAR_CHIPS = 4  # 全部 + the newest years that fit one row of big chips


class RecordsScreen(FlowScreen):
    """``show(item_no)``: every year; :meth:`choose_year` narrows to one."""

    voice_key = "records"

    item_no = NumericProperty(0)
    header_text = StringProperty("")
    totals_text = StringProperty("")
    failed_text = StringProperty("")
    year = NumericProperty(0)  # 0: all years
    years = ListProperty([])
    rows = ListProperty([])

    def show(self, argument) -> None:
        definition = self.controller.flows.definition(int(argument))
        self.clear()
        self.item_no = definition.no
        self.heading = definition.name
        self.controller.load_records(self, definition.no, None)

    def choose_year(self, year: int) -> None:
        self.controller.load_records(self, int(self.item_no), year or None)

    def fill(self, view: RecordsView) -> None:
        from kivy.app import App

        app = App.get_running_app()
        scale, columns = app.scale, result_columns(app)
        fit = result_line_fit(self.ids.rv, app)
        self.header_text = "\n".join(f"{c.label}：{c.text}" for c in view.header)
        self.year = view.year or 0
        if not self.years or view.year is None:
            self.years = list(view.years[:MAX_YEAR_CHIPS])
        self.rows = level_heights(
            [
                row_data(row, i, scale=scale, columns=columns, fit=fit)
                for i, row in enumerate(view.rows)
            ],
            columns,
        )
        scope = f"{view.year}年" if view.year else "全部年份"
        self.totals_text = f"{scope}合计：" + "；".join(f"{t.label} {t.text}" for t in view.totals)
        self.failed_text = (
            f"其中 {view.failed_count} 笔发放失败，原因见标黄的记录" if view.failed_count else ""
        )
        self.message = view.message or ("" if view.rows else view.empty_text)
        self.ids.rv.scroll_y = 1

    def year_button(self, year: int):
        """The chip of *year* (0: 全部) for tests and the tour; KeyError if not offered."""
        for child in self.ids.year_chips.children:
            if getattr(child, "year", None) == year and child.opacity:
                return child
        raise KeyError(year)

    def open_row(self, index: int) -> None:
        """Record rows show every value already."""

    def clear(self) -> None:
        super().clear()
        self.item_no = 0
        self.header_text = ""
        self.totals_text = ""
        self.failed_text = ""
        self.year = 0
        self.years = []
        self.rows = []
