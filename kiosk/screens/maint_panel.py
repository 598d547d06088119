"""One maintenance page (device status, print queue, outbox, logs, network, diagnostics,
acceptance self-check, config, audit, restart/exit): rows of status and the allowed actions.

The page is a :class:`~kiosk.services.maintenance.Panel` built by the facade; this screen only
lays it out. Row widgets are pooled and reused (the log page shows up to 60 rows). An action
with ``confirm`` needs a second tap within :data:`CONFIRM_SECONDS`. UI thread only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.base import KioskScreen
from kiosk.screens.maint_widgets import MaintRow, MaintTapRow
from kiosk.screens.widgets import KioskButton

KV_FILE = Path(__file__).with_suffix(".kv")
CONFIRM_SECONDS = 10.0


@dataclass(frozen=True)
class _RowAction:
    """A tappable row, seen by :meth:`MaintPanelScreen.press` like a confirmed action."""

    key: str
    label: str
    confirm: bool = True


class MaintPanelScreen(KioskScreen):
    """``action_buttons[key]`` are the page's action buttons (tests tap them)."""

    title = StringProperty("")
    note = StringProperty("")
    message = StringProperty("")
    tone = StringProperty("info")
    page = StringProperty("")
    busy = BooleanProperty(False)
    seconds_left = NumericProperty(0)

    def __init__(self, *, maint, **kwargs) -> None:
        super().__init__(**kwargs)
        self.maint = maint
        self._pool: list[MaintRow] = []
        self._tap_pool: list[MaintTapRow] = []
        self.action_buttons: dict[str, KioskButton] = {}
        self._confirming: tuple[str, float] | None = None
        self.rows: tuple = ()

    def show(self, panel) -> None:
        """Lay out *panel* (reusing row widgets); keeps a message shown for the same page."""
        if panel.key != self.page:
            self.set_message("", "info")
            self.ids.scroller.scroll_y = 1
        self.page = panel.key
        self.title = panel.title
        self.note = panel.note
        self.rows = panel.rows
        box = self.ids.rows
        box.clear_widgets()
        plain = iter(self._widgets(self._pool, sum(not r.action for r in panel.rows), MaintRow))
        tappable = iter(
            self._widgets(self._tap_pool, sum(bool(r.action) for r in panel.rows), MaintTapRow)
        )
        for row in panel.rows:
            widget = next(tappable) if row.action else next(plain)
            widget.title, widget.detail, widget.tone = row.title, row.detail, row.tone
            widget.action = row.action
            box.add_widget(widget)
        from kivy.app import App

        # landscape: actions share the bottom row with the navigation, leaving room to read
        portrait = App.get_running_app().portrait
        self.ids.actions.clear_widgets()
        self.ids.actions_inline.clear_widgets()
        actions = self.ids.actions if portrait else self.ids.actions_inline
        self.action_buttons = {}
        self._confirming = None
        for action in panel.actions:
            button = KioskButton(text=action.label)
            button.bind(on_release=lambda _b, a=action: self.press(a))
            self.action_buttons[action.key] = button
            actions.add_widget(button)

    def press(self, action) -> None:
        """Run *action*; one that needs confirming asks for a second tap first."""
        if self.busy:
            return
        now = time.monotonic()
        if action.confirm:
            pending = self._confirming
            if pending is None or pending[0] != action.key or now - pending[1] > CONFIRM_SECONDS:
                self._confirming = (action.key, now)
                self.set_message(f"请再点一次“{action.label}”确认", "warn")
                return
        self._confirming = None
        self.maint.act(action.key)

    def _widgets(self, pool: list, count: int, cls: type) -> list:
        """*count* widgets of *cls* from *pool*, growing it as needed (widgets are reused)."""
        while len(pool) < count:
            widget = cls()
            if cls is MaintTapRow:
                widget.bind(on_release=self._row_pressed)
            pool.append(widget)
        return pool[:count]

    def row_widget(self, action: str) -> MaintRow:
        """The shown row whose action is *action* (tests tap it); KeyError if none."""
        for widget in self.ids.rows.children:
            if widget.action == action:
                return widget
        raise KeyError(action)

    def _row_pressed(self, widget: MaintRow) -> None:
        if widget.action:
            # a tappable row submits something: always confirm with a second tap
            self.press(_RowAction(widget.action, widget.title.split("：", 1)[-1]))

    def set_message(self, text: str, tone: str) -> None:
        self.message = text
        self.tone = tone

    def shown_text(self) -> str:
        """Everything the page shows as text (tests scan it for personal data)."""
        parts = [self.title, self.note, self.message]
        for row in self.rows:
            parts += [row.title, row.detail]
        return "\n".join(parts)

    def back(self) -> None:
        self.maint.open_home()

    def leave(self) -> None:
        self.maint.exit_maintenance("exit")

    def clear(self) -> None:
        self.title = self.note = self.page = ""
        self.set_message("", "info")
        self.rows = ()
        self.busy = False
        self.ids.rows.clear_widgets()
        self.ids.actions.clear_widgets()
        self.ids.actions_inline.clear_widgets()
        self.action_buttons = {}
        for widget in self._pool + self._tap_pool:
            widget.title = widget.detail = widget.action = ""
