"""The speaker: SDL2's mixer (the copy Kivy ships), driven through ctypes.

See :mod:`kiosk.devices.sound.sdl`. The voice's audio thread (:mod:`kiosk.services.audio`) is
the only caller of :class:`SdlMixer`; ``kiosk diag sound`` asks SDL about the output devices.
"""

from kiosk.devices.sound.sdl import SdlClip, SdlLibraries, SdlMixer, SoundUnavailable, load_sdl

__all__ = ["SdlClip", "SdlLibraries", "SdlMixer", "SoundUnavailable", "load_sdl"]
