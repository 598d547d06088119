"""Matching results (items 2, 5, 8), each with the reason it was recommended.

When an earlier step is missing (2 and 5 need the job-seeker registration 1 / 4, item 8 needs
a demand of item 7) the screen says so and offers that item with one tap. Item 8 names the
employer's demand the seekers are matched to; with several open ones 换一条 picks another.
UI thread only.
"""

from __future__ import annotations

from pathlib import Path

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.domain.items.views import ListPage
from kiosk.domain.prompts import ScreenSpeech
from kiosk.screens.flow_base import (
    FlowScreen,
    level_heights,
    result_columns,
    result_line_fit,
    row_data,
)

KV_FILE = Path(__file__).with_suffix(".kv")


class MatchScreen(FlowScreen):
    """``show(item_no)``: asks the platform for the matches of the identified resident."""

    voice_key = "match"

    item_no = NumericProperty(0)
    count_text = StringProperty("")
    prior_item = NumericProperty(0)
    prior_text = StringProperty("")
    chosen_text = StringProperty("")  # item 8: the demand matched to
    can_switch = BooleanProperty(False)
    rows = ListProperty([])
    choices: tuple = ()  # item 8: the resident's open demands (kiosk.domain.items.views.Choice)

    def show(self, argument) -> None:
        definition = self.controller.flows.definition(int(argument))
        self.clear()
        self.item_no = definition.no
        self.heading = definition.name
        self.controller.load_match(self, definition.no)

    def fill(self, page: ListPage) -> None:
        from kivy.app import App

        app = App.get_running_app()
        scale, columns = app.scale, result_columns(app)
        fit = result_line_fit(self.ids.rv, app)
        self.rows = level_heights(
            [
                row_data(row, i, scale=scale, columns=columns, fit=fit)
                for i, row in enumerate(page.rows)
            ],
            columns,
        )
        self.count_text = f"为您找到 {len(page.rows)} 条推荐" if page.rows else ""
        if not page.rows:
            self.message = page.empty_text or "暂时没有合适的推荐，请过几天再来看看"

    def chose(self, label: str, others: bool) -> None:
        """The value matched to (item 8: one of the resident's demands), and whether there
        are others to switch to."""
        self.chosen_text = label
        self.can_switch = others

    def switch_choice(self) -> None:
        if self.can_switch:
            self.controller.switch_choice(self, int(self.item_no))

    def missing_step(self, message: str, item_no: int | None) -> None:
        self.message = message
        if item_no:
            self.prior_item = item_no
            name = self.services.catalogue.item(item_no).name
            self.prior_text = f"去办理：{name}"

    def speech(self) -> ScreenSpeech:
        if self.prior_item:
            return ScreenSpeech(guidance=("match_missing_step",))
        return super().speech()

    def open_prior(self) -> None:
        if self.prior_item:
            self.controller.open_item(int(self.prior_item))

    def open_row(self, index: int) -> None:
        """Match rows show everything already; nothing more to open."""

    def clear(self) -> None:
        super().clear()
        self.item_no = 0
        self.count_text = ""
        self.prior_item = 0
        self.prior_text = ""
        self.chosen_text = ""
        self.can_switch = False
        self.choices = ()
        self.rows = []
