"""SDL2's mixer through Kivy's audio provider: the :class:`~kiosk.services.audio.Mixer` the kiosk
plays its voice and its chime with.

Called from the audio thread only (:class:`~kiosk.services.audio.AudioWorker`), never from the
UI thread: loading a clip reads and converts the file, and the first load opens the sound device.
Kivy's SDL2 provider returns a sound of length 0 when no device could be opened (or the file is
not a WAV it can read): :meth:`KivyMixer.load` then returns None.
"""

from __future__ import annotations

from pathlib import Path


class KivyClip:
    """A loaded Kivy sound; ``length`` in seconds."""

    def __init__(self, sound) -> None:
        self._sound = sound
        self.length = float(sound.length)

    def play(self, volume: float) -> None:
        self._sound.volume = max(0.0, min(1.0, volume))
        self._sound.play()  # Kivy stops it first: a repeat restarts it

    def stop(self) -> None:
        self._sound.stop()

    def unload(self) -> None:
        self._sound.unload()


class KivyMixer:
    """Loads WAV files with ``kivy.core.audio.SoundLoader`` (SDL2_mixer on the kiosk)."""

    def load(self, path: Path) -> KivyClip | None:
        from kivy.core.audio import SoundLoader

        sound = SoundLoader.load(str(path))
        if sound is None:
            return None
        if not sound.length:
            sound.unload()
            return None
        return KivyClip(sound)


def play_once(
    paths: tuple[Path, ...], volume: float, *, kivy_home: Path
) -> tuple[Path, float] | None:
    """Play the first of *paths* that loads, to its end, outside the app (``kiosk voice say``).

    Sets Kivy's environment first (its home under the data directory, no argument parsing, no
    console log). Returns (file, seconds) played, or None when nothing could be played (no sound
    device). Blocks for the clip's length.
    """
    import os
    import time

    kivy_home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ["KIVY_HOME"] = str(kivy_home)
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ["KIVY_NO_FILELOG"] = "1"
    os.environ["KIVY_LOG_MODE"] = "PYTHON"  # Kivy must not take over stderr
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    mixer = KivyMixer()
    for path in paths:
        clip = mixer.load(path)
        if clip is None:
            continue
        clip.play(volume)
        time.sleep(clip.length + 0.2)
        clip.stop()
        clip.unload()
        return path, clip.length
    return None
