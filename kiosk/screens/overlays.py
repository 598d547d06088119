"""Full-window overlays drawn above the screens: the idle prompt and the help panel.

Both are built once and added to / removed from the app's root layout. They dim the screen
behind and take every touch, so nothing underneath is pressed by the tap that dismisses them.
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.properties import NumericProperty, StringProperty

from kiosk.screens.modal import ModalLayer

KV_FILE = Path(__file__).with_suffix(".kv")


class IdlePrompt(ModalLayer):
    """ "继续办理？" with a countdown. One tap anywhere continues; "返回首页" ends at once."""

    seconds_left = NumericProperty(0)

    def on_touch_down(self, touch):
        home = self.ids.home_button
        if home.collide_point(*touch.pos):
            return super().on_touch_down(touch)
        App.get_running_app().continue_session()
        return True


class HelpPanel(ModalLayer):
    """Where to find staff (counter hours, phone) and ``status``: whether the operator on duty
    was told. A tap outside the card or 知道了 closes it."""

    outside_closes = True

    status = StringProperty("")

    def tapped_outside(self) -> None:
        App.get_running_app().close_help()
