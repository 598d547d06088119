"""Big pickers: choose one (or up to N) of a list with large buttons instead of typing.

Used for occupation, industry, town and village, education, salary range, work type, the yes/no
questions and the search filters. Built once; :meth:`PickerOverlay.open` fills it with the
options of one field. One choice closes at once; a multiple choice is confirmed with 确定.
UI thread only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.screens.modal import AskingLayer

KV_FILE = Path(__file__).with_suffix(".kv")


class PickerOption(ButtonBehavior, BoxLayout):
    """One option: its ``label`` and whether it is ``chosen``."""

    label = StringProperty("")
    chosen = BooleanProperty(False)


def toggle_choice(chosen: list[str], label: str, max_choices: int) -> tuple[list[str], str]:
    """The choices after tapping *label*, and a message when the limit stops it."""
    if label in chosen:
        return [c for c in chosen if c != label], ""
    if max_choices <= 1:
        return [label], ""
    if len(chosen) >= max_choices:
        return chosen, f"最多选择 {max_choices} 项，请先取消一项"
    return [*chosen, label], ""


class PickerOverlay(AskingLayer):
    """The picker layer; see the module docstring."""

    outside_closes = True

    title = StringProperty("")
    hint = StringProperty("")
    message = StringProperty("")
    max_choices = NumericProperty(1)
    multiple = BooleanProperty(False)
    empty = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._chosen: list[str] = []

    def open(
        self,
        *,
        title: str,
        options: Sequence[str],
        chosen: Sequence[str],
        max_choices: int,
        on_done: Callable[[list[str]], None],
        on_close: Callable[[], None],
        hint: str = "",
    ) -> None:
        """Offer *options*; *on_done(choices)* when chosen, *on_close()* whenever it closes."""
        self.title = title
        self.hint = hint or ("可选择多项，选好后点“确定”" if max_choices > 1 else "请点选一项")
        self.max_choices = max(1, max_choices)
        self.multiple = max_choices > 1
        self.message = ""
        self.empty = not options
        self._chosen = [c for c in chosen if c in options]
        self.ask(on_done=on_done, on_close=on_close)
        grid = self.ids.options
        grid.clear_widgets()
        for label in options:
            option = PickerOption(label=label, chosen=label in self._chosen)
            option.bind(on_release=self._tapped)
            grid.add_widget(option)
        self.ids.scroll.scroll_y = 1

    def option(self, label: str) -> PickerOption:
        """The option button showing *label* (tests and the tour tap it); KeyError if none."""
        for child in self.ids.options.children:
            if child.label == label:
                return child
        raise KeyError(label)

    def _tapped(self, option: PickerOption) -> None:
        self._chosen, self.message = toggle_choice(self._chosen, option.label, self.max_choices)
        for child in self.ids.options.children:
            child.chosen = child.label in self._chosen
        if not self.multiple and self._chosen:
            self.confirm()

    def confirm(self) -> None:
        self.answer(list(self._chosen))

    def forget(self) -> None:
        self._chosen = []
        self.ids.options.clear_widgets()

    def tapped_outside(self) -> None:
        self.close()
