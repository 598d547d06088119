"""A category's list of items, each with its 自助办理 / 柜台办理 badge and time limit."""

from __future__ import annotations

from pathlib import Path

from kivy.properties import BooleanProperty, ListProperty, StringProperty

from kiosk.domain.catalogue import Category
from kiosk.domain.prompts import ScreenSpeech, category_title
from kiosk.screens.base import KioskScreen
from kiosk.screens.home import CATEGORY_ICONS, category_summary

KV_FILE = Path(__file__).with_suffix(".kv")


def item_rows(category: Category) -> list[dict]:
    """RecycleView data for the category's items (the view class is ``ItemRow``)."""
    return [
        {
            "no": item.no,
            "name": item.name,
            "limit_text": item.time_limit_text,
            "kiosk_runs": item.kiosk_runs,
        }
        for item in category.items
    ]


class CategoryScreen(KioskScreen):
    """Lists the items of one category; :meth:`show` fills it, :meth:`clear` empties it."""

    category_name = StringProperty("")
    icon_kind = StringProperty("job")
    summary = StringProperty("")
    rows = ListProperty([])
    needs_scroll = BooleanProperty(False)

    def show(self, category_name: str) -> None:
        """Fill the list with *category_name*'s items; KeyError for an unknown category."""
        categories = {c.name: c for c in self.services.catalogue.categories()}
        category = categories[category_name]
        self.category_name = category.name
        self.icon_kind = CATEGORY_ICONS.get(category.name, "job")
        summary, detail = category_summary(
            len(category.items), sum(item.kiosk_runs for item in category.items)
        )
        self.summary = f"{summary}，{detail}"
        self.rows = item_rows(category)
        self.ids.rv.scroll_y = 1

    def speech(self) -> ScreenSpeech:
        names = [c.name for c in self.services.catalogue.categories()]
        position = names.index(self.category_name) + 1 if self.category_name in names else 0
        return ScreenSpeech(
            title=category_title(position) if position else "", guidance=("category",)
        )

    def row(self, no: int):
        """The visible row widget for item *no* (tests and the tour tap it); KeyError if none."""
        for view in self.ids.rv.layout_manager.children:
            if int(view.no) == no:
                return view
        raise KeyError(no)

    def clear(self) -> None:
        self.category_name = ""
        self.summary = ""
        self.rows = []
        self.ids.rv.scroll_y = 1
