"""SDL2's mixer through ctypes: the same library Kivy's window and audio provider use.

Why not Kivy's ``SoundLoader``: its SDL2 provider calls ``Mix_LoadWAV`` holding Python's GIL,
so loading a 10-second prompt on the audio thread froze the UI thread for as long (up to 100 ms
measured here); ctypes releases the GIL during every foreign call. And the mixer is opened at
the shipped clips' own format (22050 Hz, mono, 16-bit), so loading one is a file read with no
conversion; other recordings are converted by SDL on the audio thread.

The libraries: the ones bundled in Kivy's wheel (``Kivy.libs/``, found without importing Kivy),
else the system's ``libSDL2_mixer-2.0``. Every call here belongs to one thread, the voice's
audio thread (SDL's mixer locks its own state; ``SDL_InitSubSystem(SDL_INIT_AUDIO)`` there too).
Without a sound device :meth:`SdlMixer.load` returns None and never raises.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SDL_INIT_AUDIO = 0x10
AUDIO_S16SYS = 0x8010 if sys.byteorder == "little" else 0x9010
RATE = 22_050  # the shipped clips' rate: loading them needs no conversion
CHANNELS = 1
CHUNK_FRAMES = 1024  # SDL's buffer: ~46 ms at 22.05 kHz
MIXER_CHANNELS = 8


class SoundUnavailable(RuntimeError):
    """SDL's mixer library is missing, or no sound output could be opened."""


class _MixChunk(ctypes.Structure):
    _fields_ = [
        ("allocated", ctypes.c_int),
        ("abuf", ctypes.c_void_p),
        ("alen", ctypes.c_uint32),
        ("volume", ctypes.c_uint8),
    ]


@dataclass(frozen=True)
class SdlLibraries:
    """The loaded SDL2 and SDL2_mixer, and where they came from (for ``kiosk diag sound``)."""

    sdl: ctypes.CDLL
    mixer: ctypes.CDLL | None
    origin: str  # "kivy" (the wheel's Kivy.libs) or "system"


def _kivy_libs() -> Path | None:
    spec = importlib.util.find_spec("kivy")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    libs = Path(next(iter(spec.submodule_search_locations))).parent / "Kivy.libs"
    return libs if libs.is_dir() else None


def load_sdl(*, need_mixer: bool = True) -> SdlLibraries:
    """Load SDL2 (and SDL2_mixer): Kivy's bundled copies first, else the system's.

    Raises :class:`SoundUnavailable` naming what is missing.
    """
    libs = _kivy_libs()
    if libs is not None:
        sdl_files = sorted(libs.glob("libSDL2-2*.so*"))
        mixer_files = sorted(libs.glob("libSDL2_mixer-2*.so*"))
        if sdl_files and (mixer_files or not need_mixer):
            # SDL first: the mixer names it by its bundled soname, found once it is loaded.
            sdl = ctypes.CDLL(str(sdl_files[0]), mode=ctypes.RTLD_GLOBAL)
            mixer = ctypes.CDLL(str(mixer_files[0])) if mixer_files else None
            return _declare(SdlLibraries(sdl, mixer, "kivy"))
    sdl_name = ctypes.util.find_library("SDL2-2.0") or ctypes.util.find_library("SDL2")
    mixer_name = ctypes.util.find_library("SDL2_mixer-2.0") or ctypes.util.find_library(
        "SDL2_mixer"
    )
    if sdl_name is None or (need_mixer and mixer_name is None):
        raise SoundUnavailable("SDL2_mixer not found (Kivy's wheel ships it: reinstall kivy)")
    sdl = ctypes.CDLL(sdl_name, mode=ctypes.RTLD_GLOBAL)
    mixer = ctypes.CDLL(mixer_name) if mixer_name else None
    return _declare(SdlLibraries(sdl, mixer, "system"))


def _declare(libraries: SdlLibraries) -> SdlLibraries:
    sdl = libraries.sdl
    sdl.SDL_GetError.restype = ctypes.c_char_p
    sdl.SDL_GetCurrentAudioDriver.restype = ctypes.c_char_p
    sdl.SDL_GetAudioDeviceName.restype = ctypes.c_char_p
    sdl.SDL_RWFromFile.restype = ctypes.c_void_p
    sdl.SDL_RWFromFile.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    mixer = libraries.mixer
    if mixer is not None:
        mixer.Mix_LoadWAV_RW.restype = ctypes.POINTER(_MixChunk)
        mixer.Mix_LoadWAV_RW.argtypes = [ctypes.c_void_p, ctypes.c_int]
        mixer.Mix_FreeChunk.argtypes = [ctypes.POINTER(_MixChunk)]
        mixer.Mix_VolumeChunk.argtypes = [ctypes.POINTER(_MixChunk), ctypes.c_int]
        mixer.Mix_PlayChannel.argtypes = [ctypes.c_int, ctypes.POINTER(_MixChunk), ctypes.c_int]
        mixer.Mix_GetChunk.restype = ctypes.c_void_p
        mixer.Mix_QuerySpec.argtypes = [ctypes.POINTER(ctypes.c_int)] * 3
    return libraries


def error_text(libraries: SdlLibraries) -> str:
    return (libraries.sdl.SDL_GetError() or b"").decode("utf-8", errors="replace")


class SdlClip:
    """A loaded clip (a ``Mix_Chunk``); ``length`` in seconds. Audio thread only."""

    def __init__(self, mixer: SdlMixer, chunk, length: float) -> None:
        self._mixer = mixer
        self._chunk = chunk
        self._channel = -1
        self.length = length

    def play(self, volume: float) -> None:
        if not self._chunk:
            return
        lib = self._mixer.libraries.mixer
        lib.Mix_VolumeChunk(self._chunk, round(max(0.0, min(1.0, volume)) * 128))
        self._channel = lib.Mix_PlayChannel(-1, self._chunk, 0)
        if self._channel < 0:
            log.warning("no free mixer channel", extra={"event": "audio"})

    def stop(self) -> None:
        lib = self._mixer.libraries.mixer
        # The channel may already play another clip (SDL reuses a finished channel).
        mine = self._chunk and lib.Mix_GetChunk(self._channel) == ctypes.addressof(
            self._chunk.contents
        )
        if self._channel >= 0 and mine:
            lib.Mix_HaltChannel(self._channel)
        self._channel = -1

    def unload(self) -> None:
        if self._chunk:
            self.stop()
            self._mixer.libraries.mixer.Mix_FreeChunk(self._chunk)
            self._chunk = None


class SdlMixer:
    """SDL2's mixer opened at 22050 Hz mono; implements :class:`kiosk.services.audio.Mixer`.

    :meth:`prepare` opens the output (the audio thread calls it once at start); :meth:`load`
    opens it if that has not happened. A failed open is not retried (SDL's mixer state after a
    failed open is not worth the risk): the kiosk stays silent until restarted.
    """

    def __init__(self, libraries: SdlLibraries | None = None) -> None:
        self._libraries = libraries
        self._state: bool | None = None  # None: not tried; True: open; False: failed
        self.error = ""
        self.driver = ""

    @property
    def libraries(self) -> SdlLibraries:
        if self._libraries is None:
            self._libraries = load_sdl()
        return self._libraries

    def prepare(self) -> bool:
        """Open the sound output; True when it is open. Never raises."""
        if self._state is not None:
            return self._state
        self._state = False
        try:
            libraries = self.libraries
        except (SoundUnavailable, OSError) as exc:
            self.error = str(exc)
            log.warning("sound library unavailable", extra={"event": "audio"})
            return False
        sdl, mixer = libraries.sdl, libraries.mixer
        if sdl.SDL_InitSubSystem(SDL_INIT_AUDIO) < 0:
            self.error = error_text(libraries)
            return False
        if mixer.Mix_OpenAudio(RATE, AUDIO_S16SYS, CHANNELS, CHUNK_FRAMES) < 0:
            self.error = error_text(libraries)
            sdl.SDL_QuitSubSystem(SDL_INIT_AUDIO)
            return False
        mixer.Mix_AllocateChannels(MIXER_CHANNELS)
        self.driver = (sdl.SDL_GetCurrentAudioDriver() or b"").decode()
        self._state = True
        return True

    def load(self, path: Path) -> SdlClip | None:
        """The clip in WAV file *path*, or None (no sound output, or not a WAV SDL reads)."""
        if not self.prepare():
            return None
        libraries = self.libraries
        stream = libraries.sdl.SDL_RWFromFile(str(path).encode(), b"rb")
        if not stream:
            return None
        chunk = libraries.mixer.Mix_LoadWAV_RW(stream, 1)  # 1: SDL closes the stream
        if not chunk:
            log.warning("sound file not loaded", extra={"event": "audio"})
            return None
        frequency, fmt, channels = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        libraries.mixer.Mix_QuerySpec(
            ctypes.byref(frequency), ctypes.byref(fmt), ctypes.byref(channels)
        )
        bytes_per_second = frequency.value * channels.value * ((fmt.value & 0xFF) // 8)
        return SdlClip(self, chunk, chunk.contents.alen / max(1, bytes_per_second))

    def close(self) -> None:
        """Close the output (at exit, after every clip was unloaded)."""
        if self._state:
            self.libraries.mixer.Mix_CloseAudio()
            self.libraries.sdl.SDL_QuitSubSystem(SDL_INIT_AUDIO)
        self._state = None
