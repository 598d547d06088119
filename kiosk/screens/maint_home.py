"""Maintenance home: who is signed in, and one button per page the role may open — no more.

The menu comes from :meth:`MaintenanceFacade.menu` (roles.allowed permissions), so an operator
never sees 本机配置 and a vendor never sees the print queue or the outbox. UI thread only.
"""

from __future__ import annotations

from pathlib import Path

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.base import KioskScreen
from kiosk.screens.widgets import KioskButton

KV_FILE = Path(__file__).with_suffix(".kv")


class MaintHomeScreen(KioskScreen):
    """``menu_buttons[key]`` are the page buttons shown for the signed-in role."""

    who = StringProperty("")
    message = StringProperty("")
    busy = BooleanProperty(False)
    seconds_left = NumericProperty(0)

    def __init__(self, *, maint, **kwargs) -> None:
        super().__init__(**kwargs)
        self.maint = maint
        self.menu_buttons: dict[str, KioskButton] = {}

    def show(self, session, menu) -> None:
        """Show *session*'s role and account and the *menu* entries (MenuEntry list)."""
        operator = session.operator
        self.who = f"{operator.role.label}  {operator.name_masked}（{operator.account}）"
        self.message = "" if menu else "该账号在本机没有可进行的维护操作"
        self.seconds_left = int(session.seconds_left())
        grid = self.ids.menu
        grid.clear_widgets()
        self.menu_buttons = {}
        for entry in menu:
            button = KioskButton(text=entry.label, primary=False)
            button.bind(on_release=lambda _b, key=entry.key: self.maint.open_page(key))
            self.menu_buttons[entry.key] = button
            grid.add_widget(button)

    def leave(self) -> None:
        self.maint.exit_maintenance("exit")

    def clear(self) -> None:
        self.who = ""
        self.message = ""
        self.busy = False
        self.ids.menu.clear_widgets()
        self.menu_buttons = {}
