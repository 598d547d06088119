"""The base of every full-window layer drawn above the screens (keypad, pickers, help …).

A layer takes every touch, so nothing underneath is pressed by the tap that dismisses it or
by a finger that slides off a key. A layer with a ``card`` id and ``outside_closes`` set
treats a tap outside the card as "close" (:meth:`ModalLayer.tapped_outside`).
"""

from __future__ import annotations

from kivy.uix.floatlayout import FloatLayout


class ModalLayer(FloatLayout):
    """Swallows touches; see the module docstring."""

    outside_closes = False

    def tapped_outside(self) -> None:
        """A tap outside the card of a layer whose ``outside_closes`` is set."""

    def on_touch_down(self, touch):
        card = self.ids.get("card")
        if self.outside_closes and card is not None and not card.collide_point(*touch.pos):
            self.tapped_outside()
            return True
        super().on_touch_down(touch)
        return True

    def on_touch_move(self, touch):
        super().on_touch_move(touch)
        return True

    def on_touch_up(self, touch):
        super().on_touch_up(touch)
        return True
