"""The base of every screen: it receives the services facade and can wipe what it shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.uix.screenmanager import Screen

from kiosk.domain.prompts import ScreenSpeech

if TYPE_CHECKING:
    from kiosk.app import KioskServices


class KioskScreen(Screen):
    """A screen built once at start-up and reused; ``clear()`` forgets everything it showed.

    Subclasses take the services facade as a keyword-only argument and must make ``clear()``
    remove every resident-visible value (it runs when a session ends). UI thread only.
    """

    # The prompt key of this screen's guidance (assets/voice/prompts.toml), spoken when the
    # screen opens (if ``speaks_on_entry``) and by 朗读; "" = none.
    voice_key = ""
    speaks_on_entry = True

    def __init__(self, *, services: KioskServices, **kwargs) -> None:
        super().__init__(**kwargs)
        self.services = services

    def speech(self) -> ScreenSpeech:
        """What this screen may say, as prompt keys (see :mod:`kiosk.domain.prompts`); the app
        adds the item's name as the title when the screen is about an item."""
        return ScreenSpeech(guidance=(self.voice_key,) if self.voice_key else ())

    def cue(self, *keys: str) -> None:
        """Say prompts *keys* now (an event on this screen), if this screen is on the glass."""
        from kivy.app import App

        app = App.get_running_app()
        if app is not None and self.manager is not None and self.manager.current == self.name:
            app.voice_cue(*keys)

    def clear(self) -> None:
        """Forget what this screen showed (called when the resident session ends)."""
