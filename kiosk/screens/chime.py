"""Plays the help chime through Kivy's audio provider (SDL2 mixer on the kiosk).

A kiosk without a sound device (or with the speaker unplugged) must still send the help
request: :meth:`Chime.play` then returns False and says so once in the log, never raises.
UI thread only.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from kiosk.domain.chime import chime_wav

log = logging.getLogger(__name__)


class Chime:
    """The "ding-dong" played when a resident asks for staff; *volume* 0 silences it."""

    def __init__(self, volume: float) -> None:
        self.volume = max(0.0, min(1.0, volume))
        self._sound = None
        self._loaded = False
        self._directory: Path | None = None
        self.played = 0

    def play(self) -> bool:
        """Start the chime; True when an audio device took it."""
        sound = self._load()
        if sound is None:
            return False
        sound.stop()  # a second tap restarts the chime instead of being ignored
        sound.volume = self.volume
        sound.play()
        self.played += 1
        return True

    def close(self) -> None:
        if self._sound is not None:
            self._sound.unload()
            self._sound = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    def _load(self):
        if self._loaded:
            return self._sound
        self._loaded = True
        if self.volume == 0:
            return None
        from kivy.core.audio import SoundLoader

        self._directory = Path(tempfile.mkdtemp(prefix="kiosk-sound-"))
        path = self._directory / "help-chime.wav"
        path.write_bytes(chime_wav())
        sound = SoundLoader.load(str(path))
        # SDL2's provider returns a sound of length 0 when no audio device could be opened.
        if sound is None or not sound.length:
            log.warning("no audio device: the help chime is silent", extra={"event": "chime"})
            return None
        self._sound = sound
        return sound
