"""The kiosk's voice on the UI thread: when a screen, an overlay or an event speaks, and what.

:class:`VoiceGuide` turns what happens on the glass into prompt keys for the
:class:`~kiosk.services.voice.VoiceService` (which plays them on its own thread):

* a new screen cuts what the last one was saying, then says its guidance
  (:meth:`~kiosk.screens.base.KioskScreen.speech`) once its content is there — a screen that
  opens with a background call speaks when the call has finished;
* 朗读 says the current screen's title (the item's name when the screen is about an item),
  guidance and details — keys only, never text from the screen;
* the idle warning and its last ten seconds, the form hints (once a session), the end of a
  session (请取走您的社保卡 while the session's card is in the slot, then 本次办理已经结束).

UI thread only. Without a voice (the prompts could not be loaded) every call does nothing.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from kivy.clock import Clock

from kiosk.domain.prompts import ScreenSpeech, compose, item_title
from kiosk.services.session import EndReason, Session

if TYPE_CHECKING:
    from kiosk.app import KioskApp
    from kiosk.services.voice import VoiceService

log = logging.getLogger(__name__)

# A screen that opens with a background call speaks once its content is there, or after this.
ENTRY_SETTLE_SECONDS = 30.0
ENTRY_POLL_SECONDS = 0.1
IDLE_COUNTDOWN_CUE_SECONDS = 10  # "还有十秒" is said when this many seconds are left
# Sessions that end so hear "本次办理已经结束" even without an identified resident.
SPOKEN_ENDS = frozenset({EndReason.IDLE_TIMEOUT, EndReason.TRANSACTION_DONE})


class VoiceGuide:
    """See the module docstring. Built by the app with its voice (or None)."""

    def __init__(self, app: KioskApp, voice: VoiceService | None) -> None:
        self._app = app
        self.voice = voice
        self._hints_given: set[str] = set()
        self._countdown_said = False
        self._entry_cue = None

    @property
    def available(self) -> bool:
        """Whether 朗读 can speak (a voice, not muted): the button is shown only then."""
        return self.voice is not None and not self.voice.settings.muted

    def cue(self, *keys: str) -> None:
        """Say prompts *keys* by itself (an event); silent when muted, off or in quiet hours."""
        if self.voice is not None:
            self.voice.cue(*keys)

    def hint(self, key: str) -> None:
        """A form hint (keypad, picker, pinyin keyboard): said the first time in a session."""
        if key not in self._hints_given:
            self._hints_given.add(key)
            self.cue(key)

    def stop(self) -> None:
        if self.voice is not None:
            self.voice.stop()

    def current_speech(self) -> ScreenSpeech:
        """What the current screen may say; the item's name as its title when it is about one."""
        app = self._app
        screen = app.screens.get(app.manager.current)
        speech = screen.speech() if screen is not None else ScreenSpeech()
        item_no = app.current_item_no()
        if not speech.title and item_no is not None:
            speech = ScreenSpeech(item_title(item_no), speech.guidance, speech.details)
        return speech

    def read_aloud(self) -> None:
        """朗读: say the current screen's title and guidance (fixed prompts, never its data)."""
        if self.voice is None:
            return
        keys = compose(self.current_speech(), read_aloud=True)
        said = self.voice.read_aloud(keys)
        log.info(
            "read aloud",
            extra={
                "event": "voice",
                "screen": self._app.manager.current,
                "state": "said" if said else "silent",
                "count": len(keys),
            },
        )

    def screen_changed(self, name: str) -> None:
        """Cut what the last screen was saying; say *name*'s guidance once its content is
        there (its background call finished, at most ENTRY_SETTLE_SECONDS later)."""
        if self.voice is None:
            return
        self.voice.stop()
        if self._entry_cue is not None:
            self._entry_cue.cancel()
            self._entry_cue = None
        screen = self._app.screens.get(name)
        if screen is not None and screen.speaks_on_entry:
            started = time.monotonic()
            self._entry_cue = Clock.schedule_once(lambda _dt: self._cue_entry(name, started), 0)

    def _cue_entry(self, name: str, started: float) -> None:
        self._entry_cue = None
        app = self._app
        if app.manager.current != name:
            return
        calls = getattr(app.services.item_flows, "calls", None)
        if getattr(calls, "busy", False) and time.monotonic() - started < ENTRY_SETTLE_SECONDS:
            self._entry_cue = Clock.schedule_once(
                lambda _dt: self._cue_entry(name, started), ENTRY_POLL_SECONDS
            )
            return
        self.voice.cue(*compose(app.screens[name].speech(), read_aloud=False))

    def idle_prompt(self, seconds_left: int, *, first: bool) -> None:
        """The idle prompt shows (*first*) or counts down: 您还要继续办理吗, then 还有十秒."""
        if first:
            self._countdown_said = seconds_left <= IDLE_COUNTDOWN_CUE_SECONDS
            self.cue("idle_warning")
        elif seconds_left <= IDLE_COUNTDOWN_CUE_SECONDS and not self._countdown_said:
            self._countdown_said = True
            self.cue("idle_countdown")

    def session_ended(self, session: Session, reason: EndReason) -> None:
        """请取走您的社保卡 while the session's card is still in the slot; 本次办理已经结束
        when a resident was identified (or the session timed out or was finished)."""
        self._hints_given.clear()
        if reason is EndReason.SHUTDOWN:
            return
        keys = ["take_card"] if session.identity.card_role else []
        if session.identity.resident is not None or reason in SPOKEN_ENDS:
            keys.append("session_ended")
        if keys:
            self.cue(*keys)
