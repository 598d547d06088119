"""The base of every full-window layer drawn above the screens (keypad, pickers, help …).

A layer takes every touch, so nothing underneath is pressed by the tap that dismisses it or
by a finger that slides off a key. A layer with a ``card`` id and ``outside_closes`` set
treats a tap outside the card as "close" (:meth:`ModalLayer.tapped_outside`).

:class:`AskingLayer` adds the one-answer protocol the keypad, the pinyin keyboard and the picker
share: a check that may refuse the answer (the layer stays open and says why), the caller's
*on_done* for an accepted answer, and *on_close* whenever the layer closes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.properties import StringProperty
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


class AskingLayer(ModalLayer):
    """A layer asking for one answer; ``error`` says why the last answer was refused."""

    error = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._check: Callable[[Any], str] | None = None
        self._on_done: Callable[[Any], None] | None = None
        self._on_close: Callable[[], None] | None = None

    def ask(
        self,
        *,
        on_done: Callable[[Any], None],
        on_close: Callable[[], None],
        check: Callable[[Any], str] | None = None,
    ) -> None:
        """Start asking: *check(answer)* gives "" or the Chinese reason to refuse it."""
        self.error = ""
        self._check, self._on_done, self._on_close = check, on_done, on_close

    def answer(self, value: Any) -> None:
        """Offer *value*: refused → ``error`` and stay open; accepted → close, then on_done."""
        problem = self._check(value) if self._check else ""
        if problem:
            self.error = problem
            return
        done, self._on_done = self._on_done, None
        self.close()
        if done is not None:
            done(value)

    def close(self) -> None:
        """Close without answering, forgetting what was typed or chosen."""
        self._on_done = None
        self.forget()
        closing, self._on_close = self._on_close, None
        if closing is not None:
            closing()

    def forget(self) -> None:
        """Drop the layer's content (it may be a resident's phone number or name)."""
