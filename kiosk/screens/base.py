"""The base of every screen: it receives the services facade and can wipe what it shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.uix.screenmanager import Screen

if TYPE_CHECKING:
    from kiosk.app import KioskServices


class KioskScreen(Screen):
    """A screen built once at start-up and reused; ``clear()`` forgets everything it showed.

    Subclasses take the services facade as a keyword-only argument and must make ``clear()``
    remove every resident-visible value (it runs when a session ends). UI thread only.
    """

    def __init__(self, *, services: KioskServices, **kwargs) -> None:
        super().__init__(**kwargs)
        self.services = services

    def clear(self) -> None:
        """Forget what this screen showed (called when the resident session ends)."""
