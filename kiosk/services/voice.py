"""Voice guidance: which prompt files exist, when the kiosk may speak, and how loud.

:class:`VoiceLibrary` finds files: a site folder (``[assets] site_dir``, a county's recordings of
a person) overrides the shipped ``assets/`` file of the same name, file by file.
:class:`VoiceService` is what the app, the screens and maintenance talk to:

* :meth:`~VoiceService.cue` — a prompt the kiosk says by itself (a screen opened, a card went
  in, the receipt printed). Silent when muted, when ``[voice] auto`` is off, or in quiet hours.
* :meth:`~VoiceService.read_aloud` — the resident tapped 朗读: silent only when muted; in quiet
  hours it speaks at ``quiet_volume``.
* :meth:`~VoiceService.stop` — the screen changed: whatever was being said is cut.

Every call only hands keys to the :class:`~kiosk.services.audio.AudioWorker`; nothing here
blocks. Keys are checked against the prompt table: an unknown key is logged and left out.
Volume and mute set in maintenance are kept in ``<data_dir>/voice-settings.json`` and win over
the configuration file until changed again. No Kivy import here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiosk.domain.prompts import PromptTable
from kiosk.domain.quiet_hours import QuietHours, parse_quiet_hours
from kiosk.services.audio import AudioWorker, Sound

log = logging.getLogger(__name__)

SETTINGS_FILE_NAME = "voice-settings.json"
CHIME_FILE = Path("sounds") / "help-chime.wav"
LOGO_FILE = Path("logo.png")
VOLUME_STEP = 0.1


class VoiceLibrary:
    """Files of the shipped ``assets/`` folder, each replaced by the site folder's when present."""

    def __init__(self, shipped: Path, site: Path | None = None) -> None:
        self.shipped = Path(shipped)
        self.site = Path(site) if site else None

    def candidates(self, relative: Path) -> tuple[Path, ...]:
        """The existing files for *relative*: the site's first, then the shipped one."""
        roots = ([self.site] if self.site else []) + [self.shipped]
        return tuple(root / relative for root in roots if (root / relative).is_file())

    def voice_file(self, key: str) -> Path | None:
        """The file 朗读 would play for *key* (the site's recording if there is one)."""
        found = self.candidates(Path("voice") / f"{key}.wav")
        return found[0] if found else None

    def sound(self, key: str) -> Sound:
        return Sound(key, self.candidates(Path("voice") / f"{key}.wav"))

    def logo(self) -> Path | None:
        """The county's logo for the top bar, if the site (or the shipped assets) has one."""
        found = self.candidates(LOGO_FILE)
        return found[0] if found else None

    def site_voices(self) -> list[str]:
        """Keys the site folder has a recording for."""
        if self.site is None or not (self.site / "voice").is_dir():
            return []
        return sorted(path.stem for path in (self.site / "voice").glob("*.wav"))


@dataclass(frozen=True)
class VoiceSettings:
    """How the kiosk speaks (``[voice]`` of the configuration, then maintenance's changes)."""

    volume: float = 0.8
    muted: bool = False
    auto: bool = True
    quiet_hours: QuietHours | None = None
    quiet_volume: float = 0.4

    @classmethod
    def from_config(cls, section) -> VoiceSettings:
        return cls(
            volume=section.volume,
            muted=section.muted,
            auto=section.auto,
            quiet_hours=parse_quiet_hours(section.quiet_hours),
            quiet_volume=section.quiet_volume,
        )


def load_overrides(settings: VoiceSettings, data_dir: Path) -> VoiceSettings:
    """*settings* with maintenance's volume and mute from ``voice-settings.json`` applied (a
    missing or damaged file changes nothing)."""
    try:
        saved = json.loads((data_dir / SETTINGS_FILE_NAME).read_text(encoding="utf-8"))
        volume = float(saved["volume"])
        muted = saved["muted"]
    except (OSError, ValueError, KeyError, TypeError):
        return settings
    if not (0.0 <= volume <= 1.0) or not isinstance(muted, bool):
        return settings
    return dataclasses.replace(settings, volume=volume, muted=muted)


def save_overrides(settings: VoiceSettings, data_dir: Path) -> None:
    """Keep maintenance's volume and mute across restarts (written atomically)."""
    path = data_dir / SETTINGS_FILE_NAME
    temporary = path.with_suffix(".tmp")
    temporary.write_text(
        json.dumps({"volume": round(settings.volume, 2), "muted": settings.muted}),
        encoding="utf-8",
    )
    os.replace(temporary, path)


@dataclass(frozen=True)
class VoiceStatus:
    """What maintenance shows about the voice."""

    settings: VoiceSettings
    quiet_now: bool
    device_ok: bool | None
    site_voices: tuple[str, ...]
    last_played: tuple[str, ...]


class VoiceService:
    """See the module docstring. Any thread may call it (the audio worker takes the keys under
    its lock): the UI thread speaks, maintenance's worker thread changes settings and tests."""

    def __init__(
        self,
        *,
        table: PromptTable,
        library: VoiceLibrary,
        settings: VoiceSettings,
        worker: AudioWorker,
        data_dir: Path | None = None,
        now: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        self.table = table
        self.library = library
        self.settings = settings
        self.worker = worker
        self._data_dir = data_dir
        self._now = now

    # -- speaking ---------------------------------------------------------------------------
    def cue(self, *keys: str) -> bool:
        """Say *keys* by itself (an event or a screen opening); True when it will be said."""
        settings = self.settings
        if settings.muted or not settings.auto or self.quiet_now():
            self.worker.stop()
            return False
        return self._say(keys, settings.volume)

    def read_aloud(self, keys: Sequence[str]) -> bool:
        """Say *keys* because the resident asked (朗读); True when it will be said."""
        settings = self.settings
        if settings.muted:
            return False
        volume = settings.quiet_volume if self.quiet_now() else settings.volume
        return self._say(keys, volume)

    def stop(self) -> None:
        """Cut whatever is being said (the screen changed)."""
        self.worker.stop()

    def effect(self, relative: Path, volume: float) -> bool:
        """Play a sound effect (``sounds/…``) beside the voice; False when there is none."""
        sound = Sound(relative.stem, self.library.candidates(relative))
        if volume <= 0 or not sound.paths or self.worker.device_ok is False:
            return False
        self.worker.effect(sound, volume)
        return True

    def _say(self, keys: Sequence[str], volume: float) -> bool:
        known = [key for key in keys if key in self.table]
        for key in keys:
            if key not in self.table:
                log.warning("unknown prompt key", extra={"event": "voice", "state": key})
        sounds = [self.library.sound(key) for key in known]
        sounds = [sound for sound in sounds if sound.paths]
        if not sounds or volume <= 0:
            self.worker.stop()
            return False
        self.worker.say(sounds, volume)
        return True

    def quiet_now(self) -> bool:
        hours = self.settings.quiet_hours
        return hours is not None and hours.contains(self._now().time())

    # -- settings (maintenance) ----------------------------------------------------------------
    def set_volume(self, volume: float) -> VoiceSettings:
        """Change the volume (clamped to 0..1), kept across restarts."""
        volume = round(max(0.0, min(1.0, volume)), 2)
        return self._change(dataclasses.replace(self.settings, volume=volume))

    def set_muted(self, muted: bool) -> VoiceSettings:
        if muted:
            self.worker.stop()
        return self._change(dataclasses.replace(self.settings, muted=muted))

    def _change(self, settings: VoiceSettings) -> VoiceSettings:
        self.settings = settings
        if self._data_dir is not None:
            try:
                save_overrides(settings, self._data_dir)
            except OSError:
                log.warning("voice settings not saved", extra={"event": "voice"})
        return settings

    def close(self) -> None:
        """Stop the audio thread (app exit)."""
        self.worker.close()

    def status(self) -> VoiceStatus:
        return VoiceStatus(
            settings=self.settings,
            quiet_now=self.quiet_now(),
            device_ok=self.worker.device_ok,
            site_voices=tuple(self.library.site_voices()),
            last_played=tuple(self.worker.played[-5:]),
        )


def prompt_table(catalogue) -> PromptTable:
    """The shipped prompt table plus the catalogue's spoken titles. Raises PromptTableError."""
    from kiosk.domain.prompts import PROMPT_FILE_NAME, catalogue_titles, load_prompt_table
    from kiosk.paths import shipped_dir

    table = load_prompt_table(shipped_dir("assets") / "voice" / PROMPT_FILE_NAME)
    return table.with_titles(catalogue_titles(catalogue))


def voice_library(config) -> VoiceLibrary:
    """The shipped assets with the configured site folder (``[assets] site_dir``) over them."""
    from kiosk.paths import shipped_dir

    return VoiceLibrary(shipped_dir("assets"), config.assets.site_dir or None)


def open_voice(
    config, *, data_dir: Path, catalogue, mixer, now_utc: Callable[[], dt.datetime] | None = None
) -> VoiceService:
    """The kiosk's voice, its audio thread started (``close()`` it at exit). Quiet hours are
    the service point's wall-clock hours (``[kiosk] timezone``), whatever zone the OS is set to;
    *now_utc* replaces the instant's source (tests)."""
    from kiosk.domain.clock import ServiceClock, utc_now

    clock = ServiceClock(config.kiosk.timezone, now_utc or utc_now)
    worker = AudioWorker(mixer)
    worker.start()
    return VoiceService(
        table=prompt_table(catalogue),
        library=voice_library(config),
        settings=load_overrides(VoiceSettings.from_config(config.voice), data_dir),
        worker=worker,
        data_dir=data_dir,
        now=clock.now,
    )
