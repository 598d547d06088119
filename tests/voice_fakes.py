"""A mixer that records what the kiosk asked it to play, for the voice tests (unit and GUI).

It implements :class:`kiosk.services.audio.Mixer` without sound: each clip's length is the WAV
header's (times *time_scale*, so a test need not wait out a 10-second prompt), and every call
is written to ``events`` with the thread that made it.
"""

from __future__ import annotations

import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MixerEvent:
    kind: str  # prepare, load, play, stop, unload, close
    path: str
    thread: str
    at: float
    volume: float = 0.0

    @property
    def key(self) -> str:
        return Path(self.path).stem


class RecordingMixer:
    """See the module docstring. *device* False: no sound output (prepare fails, nothing
    loads). *broken* paths fail to load. *gate*: loads wait until it is set."""

    def __init__(
        self,
        *,
        device: bool = True,
        time_scale: float = 1.0,
        broken: tuple[Path, ...] = (),
        gate: threading.Event | None = None,
    ) -> None:
        self.device = device
        self.time_scale = time_scale
        self.broken = set(broken)
        self.gate = gate
        self.events: list[MixerEvent] = []
        self._lock = threading.Lock()

    def note(self, kind: str, path: Path | str = "", volume: float = 0.0) -> None:
        event = MixerEvent(
            kind, str(path), threading.current_thread().name, time.monotonic(), volume
        )
        with self._lock:
            self.events.append(event)

    def prepare(self) -> bool:
        self.note("prepare")
        return self.device

    def load(self, path: Path) -> RecordingClip | None:
        if self.gate is not None:
            self.gate.wait(10)
        self.note("load", path)
        if not self.device or path in self.broken:
            return None
        with wave.open(str(path)) as clip:
            seconds = clip.getnframes() / clip.getframerate()
        return RecordingClip(self, path, seconds * self.time_scale)

    def close(self) -> None:
        self.note("close")

    def of_kind(self, kind: str) -> list[MixerEvent]:
        with self._lock:
            return [event for event in self.events if event.kind == kind]

    def played(self) -> list[str]:
        """Keys of the clips started, in order."""
        return [event.key for event in self.of_kind("play")]


class RecordingClip:
    def __init__(self, mixer: RecordingMixer, path: Path, length: float) -> None:
        self._mixer = mixer
        self.path = path
        self.length = length

    def play(self, volume: float) -> None:
        self._mixer.note("play", self.path, volume)

    def stop(self) -> None:
        self._mixer.note("stop", self.path)

    def unload(self) -> None:
        self._mixer.note("unload", self.path)
