"""The generic searchable list with paging: items 3, 6, 9, 12, 14, 15.

No keyboard: common queries are big chips (司机 电工 保洁 …), the definition's filters are
big pickers, and 上一页 / 下一页 move through the platform's pages. Rows live in a RecycleView;
tapping a row with details shows them. Served from the offline cache when the platform is
unreachable (the note says 数据更新于 …). UI thread only; calls go through the controller.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.domain.items.views import ListPage
from kiosk.screens.flow_base import (
    FlowScreen,
    level_heights,
    result_columns,
    result_line_fit,
    row_data,
)
from kiosk.screens.modal import ModalLayer

KV_FILE = Path(__file__).with_suffix(".kv")

# Common queries offered as chips, by item (the trades most asked for at village points).
COMMON_QUERIES = {
    3: ("司机", "电工", "保洁", "厨师", "保安"),
    6: ("搬运", "装修", "电工", "保洁", "采摘"),
    9: ("电工", "瓦工", "搬运", "护工", "保洁"),
    12: ("创业", "补贴", "培训", "失业", "养老"),
    14: ("专场", "网络", "高校"),
}


class SearchListScreen(FlowScreen):
    """``show(item_no)``: the first page with no query or filter."""

    voice_key = "search_list"

    item_no = NumericProperty(0)
    query = StringProperty("")
    chips = ListProperty([])
    filter_text = StringProperty("")
    has_filters = BooleanProperty(False)
    page_text = StringProperty("")
    has_next = BooleanProperty(False)
    has_previous = BooleanProperty(False)
    note = StringProperty("")
    personal_text = StringProperty("")
    rows = ListProperty([])

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._filters: dict[str, Any] = {}
        self._page = 1
        self._page_rows: tuple = ()

    def show(self, argument) -> None:
        definition = self.controller.flows.definition(int(argument))
        same = int(argument) == self.item_no and self.rows
        self.item_no = definition.no
        self.heading = definition.name
        self.chips = list(COMMON_QUERIES.get(definition.no, ())) if definition.query_param else []
        self.has_filters = bool(definition.fields)
        if not same:
            self.query, self._filters, self._page = "", {}, 1
        self._update_filter_text()
        self.search()

    def search(self, page: int | None = None) -> None:
        self._page = page or self._page
        self.message = ""
        self.controller.load_list(
            self, int(self.item_no), self.query, dict(self._filters), self._page
        )

    def choose_query(self, text: str) -> None:
        self.query = "" if text == self.query else text
        self.search(1)

    def next_page(self) -> None:
        if self.has_next:
            self.search(self._page + 1)

    def previous_page(self) -> None:
        if self.has_previous:
            self.search(self._page - 1)

    def choose_filters(self) -> None:
        self.controller.ask_filters(self, int(self.item_no), dict(self._filters))

    def set_filters(self, filters: dict[str, Any]) -> None:
        self._filters = {k: v for k, v in filters.items() if v}
        self._update_filter_text()
        self.search(1)

    def _update_filter_text(self) -> None:
        shown = [v if isinstance(v, str) else "、".join(v) for v in self._filters.values()]
        self.filter_text = ("筛选：" + "；".join(shown)) if shown else "筛选：不限"

    def fill(self, page: ListPage) -> None:
        from kivy.app import App

        app = App.get_running_app()
        scale, columns = app.scale, result_columns(app)
        fit = result_line_fit(self.ids.rv, app)
        self._page_rows = page.rows
        self.rows = level_heights(
            [
                row_data(row, i, scale=scale, columns=columns, fit=fit)
                for i, row in enumerate(page.rows)
            ],
            columns,
        )
        self.page_text = f"第 {page.page} / {page.pages} 页，共 {page.total} 条"
        self.has_next = page.has_next
        self.has_previous = page.has_previous
        self.note = page.note
        self.personal_text = "\n".join(f"{c.label}：{c.text}" for c in page.personal)
        if not page.rows:
            self.message = page.empty_text or "没有查询到记录"
        self.ids.rv.scroll_y = 1

    def open_row(self, index: int) -> None:
        if 0 <= index < len(self._page_rows):
            self.controller.show_detail(self, int(self.item_no), self._page_rows[index])

    def clear(self) -> None:
        super().clear()
        self.item_no = 0
        self.query = ""
        self.chips = []
        self.filter_text = ""
        self.page_text = ""
        self.has_next = self.has_previous = False
        self.note = ""
        self.personal_text = ""
        self.rows = []
        self._filters = {}
        self._page = 1
        self._page_rows = ()


class DetailOverlay(ModalLayer):
    """The full entry behind a list row (a posting, a policy's text); 关闭 or a tap outside."""

    outside_closes = True

    title = StringProperty("")
    body = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._on_close = None

    def open(self, *, title: str, body: str, on_close) -> None:
        self.title, self.body, self._on_close = title, body, on_close
        self.ids.scroll.scroll_y = 1

    def close(self) -> None:
        self.title = self.body = ""
        closing, self._on_close = self._on_close, None
        if closing is not None:
            closing()

    def tapped_outside(self) -> None:
        self.close()
