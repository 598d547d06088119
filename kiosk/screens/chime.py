"""The help chime: ``assets/sounds/help-chime.wav`` (a site folder's own first), played through
the voice's audio thread, so it shares SDL2's mixer with the spoken prompts and never blocks the
UI thread.

A kiosk without a sound device (or with the speaker unplugged) must still send the help request:
:meth:`Chime.play` then returns False, never raises. The sound data is made by
:mod:`kiosk.domain.chime` (``make voices`` writes the file). UI thread only.
"""

from __future__ import annotations

from kiosk.services.voice import CHIME_FILE, VoiceService


class Chime:
    """The "ding-dong" played when a resident asks for staff; *volume* 0 silences it."""

    def __init__(self, volume: float, voice: VoiceService | None) -> None:
        self.volume = max(0.0, min(1.0, volume))
        self._voice = voice
        self.played = 0

    def play(self) -> bool:
        """Hand the chime to the audio thread; True unless it is silent (volume 0, no sound
        device, no voice)."""
        if self._voice is None or not self._voice.effect(CHIME_FILE, self.volume):
            return False
        self.played += 1
        return True
