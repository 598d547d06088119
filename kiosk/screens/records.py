"""Record views with totals and a year filter: items 25, 26, 27, 33, 36.

The year chips (全部 and each year on record) ask the platform again; the totals are the
platform's over the whole selection (every page of it); 上一页 / 下一页 move through long
histories; pensions (26, 36) show the current month's benefit items (当前月待遇项目组成明细); a
failed payment is highlighted with its reason. Personal records are fetched at each visit and
never cached; the screen forgets them when the session ends. UI thread only.
"""

from __future__ import annotations

from pathlib import Path

from kivy.core.text import DEFAULT_FONT
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.domain.items.views import RecordsView
from kiosk.screens.flow_base import (
    FlowScreen,
    LineFit,
    level_heights,
    result_columns,
    result_line_fit,
    row_data,
)
from kiosk.screens.theme import SIZES
from kiosk.screens.widgets import WRAP_SLACK_PX, text_measurer

KV_FILE = Path(__file__).with_suffix(".kv")
MAX_YEAR_CHIPS = 2  # newest years with a chip of their own; the rest via 更多年份
BREAKDOWN_PER_LINE = 4  # at most, benefit items per line of the 当前月待遇 card (as they fit)


class RecordsScreen(FlowScreen):
    """``show(item_no)``: every year; :meth:`choose_year` narrows to one."""

    voice_key = "records"

    item_no = NumericProperty(0)
    header_text = StringProperty("")
    totals_text = StringProperty("")
    failed_text = StringProperty("")
    breakdown_heading = StringProperty("")
    breakdown_text = StringProperty("")
    year = NumericProperty(0)  # 0: all years
    years = ListProperty([])  # the years that have a chip
    all_years = ListProperty([])  # every year on record (更多年份 offers them)
    rows = ListProperty([])
    page = NumericProperty(1)
    page_text = StringProperty("")
    has_next = BooleanProperty(False)
    has_previous = BooleanProperty(False)

    def show(self, argument) -> None:
        definition = self.controller.flows.definition(int(argument))
        self.clear()
        self.item_no = definition.no
        self.heading = definition.name
        self.controller.load_records(self, definition.no, None)

    def choose_year(self, year: int) -> None:
        self.controller.load_records(self, int(self.item_no), year or None)

    def choose_other_year(self) -> None:
        """更多年份: pick any year on record from a list."""
        self.controller.ask_year(self, list(self.all_years), int(self.year))

    def next_page(self) -> None:
        if self.has_next:
            self._load_page(int(self.page) + 1)

    def previous_page(self) -> None:
        if self.has_previous:
            self._load_page(int(self.page) - 1)

    def _load_page(self, page: int) -> None:
        self.controller.load_records(self, int(self.item_no), int(self.year) or None, page)

    def fill(self, view: RecordsView) -> None:
        from kivy.app import App

        app = App.get_running_app()
        scale, columns = app.scale, result_columns(app)
        fit = result_line_fit(self.ids.rv, app)
        self.header_text = "\n".join(f"{c.label}：{c.text}" for c in view.header)
        self.year = view.year or 0
        if not self.all_years or view.year is None:
            self.all_years = list(view.years)
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
        breakdown = view.breakdown
        self.breakdown_heading = f"{breakdown.label}：{breakdown.title}" if breakdown else ""
        self.breakdown_text = (
            breakdown_lines(breakdown.cells, self._card_fit(app)) if breakdown else ""
        )
        self.page = view.page
        self.has_next = view.has_next
        self.has_previous = view.has_previous
        self.page_text = (
            f"第 {view.page} / {view.pages} 页，共 {view.total} 条" if view.pages > 1 else ""
        )
        self.failed_text = (
            f"其中 {view.failed_count} 笔发放失败，原因见标黄的记录" if view.failed_count else ""
        )
        self.message = view.message or ("" if view.rows else view.empty_text)
        self.ids.rv.scroll_y = 1

    def _card_fit(self, app) -> LineFit:
        """How the 当前月待遇 card's body lines fit (see records.kv: two paddings each side)."""
        from kivy.core.window import Window

        scale = app.scale
        outer = self.width if self.width > 100 else Window.width
        measure = text_measurer(DEFAULT_FONT, float(SIZES.text_body * scale), False)
        width = outer - SIZES.padding * scale * 4 - WRAP_SLACK_PX
        return LineFit(width=width, measure=measure, measure_bold=measure)

    def next_button(self):
        """The 下一页 button on the glass (a chip in landscape) for tests and the tour."""
        from kivy.app import App

        return self.ids.next_button if App.get_running_app().portrait else self.ids.side_next

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
        self.breakdown_heading = ""
        self.breakdown_text = ""
        self.year = 0
        self.years = []
        self.all_years = []
        self.rows = []
        self.page = 1
        self.page_text = ""
        self.has_next = False
        self.has_previous = False


def breakdown_lines(cells, fit: LineFit) -> str:
    """The benefit items, as many to a line as fit ("基础养老金 1,406.88元　　…")."""
    return "\n".join(fit.pack([f"{c.label} {c.text}" for c in cells], BREAKDOWN_PER_LINE))
