"""The home screen: a greeting, the four categories with their item counts, the help bar."""

from __future__ import annotations

from pathlib import Path

from kivy.properties import StringProperty

from kiosk.screens.base import KioskScreen
from kiosk.screens.widgets import CategoryTile

KV_FILE = Path(__file__).with_suffix(".kv")

# One drawn icon per category, in catalogue.CATEGORIES order.
CATEGORY_ICONS = {
    "我要找工作": "job",
    "我要学技能": "skill",
    "我要办社保": "insurance",
    "我要办社保卡": "card",
}


def category_summary(total: int, self_service: int) -> tuple[str, str]:
    """The two lines a category tile shows under its name."""
    if self_service == total:
        detail = "全部可在本机办理"
    elif self_service == 0:
        detail = "到柜台办理，可先看须知"
    else:
        detail = f"其中 {self_service} 项可在本机办理"
    return f"共 {total} 项业务", detail


class HomeScreen(KioskScreen):
    """Shows the categories; holds no resident data, so ``clear()`` has nothing to forget."""

    voice_key = "home"
    speaks_on_entry = False  # the idle screen: a kiosk does not talk to an empty room

    overview = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        catalogue = self.services.catalogue
        kiosk_count = len(catalogue.kiosk_items())
        self.overview = (
            f"共 {len(catalogue)} 项业务：{kiosk_count} 项可在本机自助办理；"
            f"{len(catalogue) - kiosk_count} 项可先查看办理须知，再到柜台办理。"
        )
        for category in catalogue.categories():
            summary, detail = category_summary(
                len(category.items), sum(item.kiosk_runs for item in category.items)
            )
            self.ids.tiles.add_widget(
                CategoryTile(
                    category_name=category.name,
                    icon_kind=CATEGORY_ICONS.get(category.name, "job"),
                    summary=summary,
                    detail=detail,
                )
            )

    def tile(self, category_name: str) -> CategoryTile:
        """The tile of *category_name* (tests and the tour tap it); KeyError if none."""
        for tile in self.ids.tiles.children:
            if tile.category_name == category_name:
                return tile
        raise KeyError(category_name)
