"""One thread that owns every call into the sound mixer: spoken prompts and short effects.

The UI thread only *asks* (:meth:`AudioWorker.say`, :meth:`stop`, :meth:`effect`): each call
takes a lock, stores the wish and wakes the worker — microseconds, never a file read or a mixer
call. The worker loads clips (kept in a small cache), starts them and waits out their length.

What is asked for is never stale: :meth:`say` replaces whatever was waiting or playing, and
:meth:`stop` (the screen changed) cuts the current clip and drops the rest of its sequence. There
is no queue: at most one sequence is wanted at a time. Effects (the help chime) play at once,
beside the voice, and are not cut by :meth:`stop`.

The worker opens the sound output when it starts. Without a sound device it says so once in the
log and stays silent (no retry: the nightly restart tries again). A clip that fails to load
from the site folder falls back to the shipped one.

The mixer is a port (:class:`Mixer`); the kiosk's is SDL2's mixer
(:class:`kiosk.devices.sound.SdlMixer`), tests use a recording fake. No Kivy import here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

GAP_SECONDS = 0.25  # between the clips of one sequence
CACHE_CLIPS = 12  # loaded clips kept (SDL converts each to 44.1 kHz stereo: ~0.5 MB per 3 s)


class Clip(Protocol):
    """A loaded sound. ``length`` in seconds. Called from the audio thread only."""

    length: float

    def play(self, volume: float) -> None: ...

    def stop(self) -> None: ...

    def unload(self) -> None: ...


class Mixer(Protocol):
    """Loads sound files. ``prepare`` opens the output (False: there is none); ``load``
    returns None when the file cannot be played (no sound device, or a file the mixer cannot
    read); ``close`` at exit. Called from the audio thread only."""

    def prepare(self) -> bool: ...

    def load(self, path: Path) -> Clip | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Sound:
    """One clip of a request: its name (a prompt key, for the log) and the files to try."""

    name: str
    paths: tuple[Path, ...]


@dataclass(frozen=True)
class _Request:
    generation: int
    sounds: tuple[Sound, ...]
    volume: float


class AudioWorker:
    """See the module docstring. ``start()`` once; ``close()`` at exit (joins the thread)."""

    def __init__(self, mixer: Mixer, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._mixer = mixer
        self._clock = clock
        self._cond = threading.Condition()
        self._generation = 0
        self._wanted: _Request | None = None
        self._effects: list[tuple[Sound, float]] = []
        self._closing = False
        self._thread: threading.Thread | None = None
        self._cache: OrderedDict[Path, Clip] = OrderedDict()
        self._failed: set[Path] = set()
        # None: not opened yet; True: the output is open; False: none (a silent kiosk).
        self.device_ok: bool | None = None
        self.played: list[str] = []  # names started, newest last (for maintenance and tests)

    # -- the UI thread's side ---------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="audio", daemon=True)
        self._thread.start()

    def say(self, sounds: Sequence[Sound], volume: float) -> None:
        """Play *sounds* one after the other, replacing whatever is playing or waiting."""
        with self._cond:
            self._generation += 1
            self._wanted = _Request(self._generation, tuple(sounds), volume) if sounds else None
            self._cond.notify_all()

    def stop(self) -> None:
        """Cut the current sequence (the screen changed); effects play on."""
        self.say((), 0.0)

    def effect(self, sound: Sound, volume: float) -> None:
        """Play *sound* now, beside any voice (the help chime)."""
        with self._cond:
            self._effects.append((sound, volume))
            self._cond.notify_all()

    def close(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- the audio thread -------------------------------------------------------------------
    def _run(self) -> None:
        self.device_ok = self._mixer.prepare()  # open the output now, not on the first prompt
        if not self.device_ok:
            log.warning("no audio device: the kiosk is silent", extra={"event": "audio"})
        current: _Request | None = None
        index = 0
        clip: Clip | None = None
        deadline: float | None = None
        while True:
            with self._cond:
                while not self._closing and not self._effects and not self._news(current):
                    wait = None if deadline is None else deadline - self._clock()
                    if wait is not None and wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._closing:
                    break
                effects, self._effects = self._effects, []
                if self._news(current):
                    current, self._wanted, index = self._wanted, None, 0
                    deadline = self._clock()  # start at once (or stop, when current is None)
            for sound, volume in effects:
                self._start(sound, volume)
            if deadline is None or self._clock() < deadline:
                continue
            if clip is not None:
                clip.stop()
                clip = None
            deadline = None
            while current is not None and index < len(current.sounds):
                if self._generation != current.generation:
                    break  # replaced or stopped while a clip loaded: the loop takes the news
                sound = current.sounds[index]
                index += 1
                clip = self._start(sound, current.volume, current.generation)
                if clip is not None:
                    deadline = self._clock() + clip.length + GAP_SECONDS
                    break
        if clip is not None:
            clip.stop()
        for loaded in self._cache.values():
            loaded.unload()
        self._cache.clear()
        self._mixer.close()

    def _news(self, current: _Request | None) -> bool:
        """A say() or stop() came after *current* was taken (call with the lock held)."""
        generation = current.generation if current is not None else 0
        return self._generation != generation and (self._wanted is not None or current is not None)

    def _start(self, sound: Sound, volume: float, generation: int | None = None) -> Clip | None:
        """Load and play *sound*; a voice clip (*generation* given) is not started when a say()
        or stop() came while it was loading."""
        try:
            clip = self._load(sound)
            if clip is None:
                return None
            if generation is not None:
                with self._cond:
                    if self._generation != generation:
                        return None
            clip.play(volume)
        except Exception:  # a mixer bug must not end the audio thread: skip this clip
            log.exception("sound failed", extra={"event": "audio", "state": sound.name})
            return None
        self.played.append(sound.name)
        del self.played[:-50]
        return clip

    def _load(self, sound: Sound) -> Clip | None:
        if self.device_ok is False:
            return None
        for path in sound.paths:
            if path in self._failed:
                continue
            clip = self._cache.get(path)
            if clip is None:
                clip = self._mixer.load(path)
                if clip is None:
                    self._failed.add(path)
                    log.warning("sound not playable", extra={"event": "audio", "state": sound.name})
                    continue
                self._remember(path, clip)
            self._cache.move_to_end(path)
            return clip
        return None

    def _remember(self, path: Path, clip: Clip) -> None:
        self._cache[path] = clip
        while len(self._cache) > CACHE_CLIPS:
            _old_path, old = self._cache.popitem(last=False)
            old.unload()
