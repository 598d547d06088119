"""The voice service and its audio thread, with a recording mixer: what is played, on which
thread, what is cut when the screen changes, and when the kiosk stays silent."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

import pytest
from voice_fakes import RecordingMixer

from kiosk.config import load_config
from kiosk.domain.catalogue import load_catalogue
from kiosk.domain.quiet_hours import parse_quiet_hours
from kiosk.paths import shipped_dir
from kiosk.services.audio import AudioWorker
from kiosk.services.voice import (
    CHIME_FILE,
    SETTINGS_FILE_NAME,
    VoiceLibrary,
    VoiceService,
    VoiceSettings,
    load_overrides,
    open_voice,
    prompt_table,
)

ASSETS = shipped_dir("assets")
TABLE = prompt_table(load_catalogue())


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.fixture
def mixer():
    return RecordingMixer(time_scale=0.02)


@pytest.fixture
def make_voice(mixer, tmp_path):
    made = []

    def make(*, settings=None, site=None, now=dt.datetime.now, mixer=mixer):
        settings = settings or VoiceSettings()
        worker = AudioWorker(mixer)
        worker.start()
        voice = VoiceService(
            table=TABLE,
            library=VoiceLibrary(ASSETS, site),
            settings=settings,
            worker=worker,
            data_dir=tmp_path,
            now=now,
        )
        made.append(voice)
        return voice

    yield make
    for voice in made:
        voice.close()


def test_a_sequence_plays_in_order_on_the_audio_thread_never_the_callers(make_voice, mixer):
    voice = make_voice()
    assert voice.cue("accepted", "take_receipt") is True
    wait_for(lambda: len(mixer.played()) == 2)
    assert mixer.played() == ["accepted", "take_receipt"]
    threads = {event.thread for event in mixer.events}
    assert threads == {"audio"}, threads
    assert all(event.volume == pytest.approx(0.8) for event in mixer.of_kind("play"))


def test_the_caller_never_waits_for_the_mixer(make_voice):
    """GIVEN a mixer whose loads hang WHEN the UI thread cues a prompt THEN the call returns at
    once: the file is loaded on the audio thread."""
    gate = threading.Event()
    slow = RecordingMixer(gate=gate, time_scale=0.02)
    voice = make_voice(mixer=slow)
    voice.cue("home")
    voice.cue("take_receipt")  # replaces it before anything was loaded
    voice.stop()
    assert slow.of_kind("load") == []  # nothing yet: the audio thread is still blocked
    gate.set()
    time.sleep(0.3)
    assert slow.played() == []  # and what was cut is never played afterwards


def test_stop_cuts_the_clip_and_drops_the_rest_of_the_sequence(make_voice):
    mixer = RecordingMixer(time_scale=1.0)  # real lengths: home.wav lasts 11 s
    voice = make_voice(mixer=mixer)
    voice.cue("home", "take_receipt")
    wait_for(lambda: mixer.played() == ["home"])
    voice.stop()  # the screen changed
    wait_for(lambda: any(e.key == "home" for e in mixer.of_kind("stop")))
    time.sleep(0.3)
    assert mixer.played() == ["home"]  # take_receipt never starts: nothing stale


def test_a_new_prompt_replaces_the_one_being_said(make_voice):
    mixer = RecordingMixer(time_scale=1.0)
    voice = make_voice(mixer=mixer)
    voice.cue("home", "category")
    wait_for(lambda: mixer.played() == ["home"])
    voice.cue("card_inserted")
    wait_for(lambda: mixer.played() == ["home", "card_inserted"])
    stops = [e.key for e in mixer.of_kind("stop")]
    assert stops[0] == "home"
    time.sleep(0.2)
    assert "category" not in mixer.played()


def test_the_chime_plays_beside_the_voice_and_is_not_cut_by_a_screen_change(make_voice):
    mixer = RecordingMixer(time_scale=1.0)
    voice = make_voice(mixer=mixer)
    voice.cue("home")
    wait_for(lambda: mixer.played() == ["home"])
    assert voice.effect(CHIME_FILE, 0.5) is True
    wait_for(lambda: "help-chime" in mixer.played())
    voice.stop()
    wait_for(lambda: any(e.key == "home" for e in mixer.of_kind("stop")))
    assert not any(e.key == "help-chime" for e in mixer.of_kind("stop"))
    assert voice.effect(CHIME_FILE, 0.0) is False  # chime_volume 0: silent


def test_without_a_sound_device_everything_is_silent_and_nothing_fails(make_voice):
    mixer = RecordingMixer(device=False)
    voice = make_voice(mixer=mixer)
    wait_for(lambda: voice.worker.device_ok is False)
    assert voice.cue("take_receipt") is True  # handed over; the audio thread stays silent
    voice.read_aloud(["home"])
    assert voice.effect(CHIME_FILE, 0.8) is False
    time.sleep(0.2)
    assert mixer.of_kind("load") == [] and mixer.played() == []
    assert voice.status().device_ok is False


def test_a_site_recording_replaces_the_shipped_one_and_falls_back_when_broken(make_voice, tmp_path):
    site = tmp_path / "site"
    (site / "voice").mkdir(parents=True)
    recorded = site / "voice" / "take_receipt.wav"
    recorded.write_bytes((ASSETS / "voice" / "accepted.wav").read_bytes())
    mixer = RecordingMixer(time_scale=0.02)
    voice = make_voice(site=site, mixer=mixer)
    assert voice.library.voice_file("take_receipt") == recorded
    assert voice.library.voice_file("accepted") == ASSETS / "voice" / "accepted.wav"
    assert voice.status().site_voices == ("take_receipt",)
    voice.cue("take_receipt")
    wait_for(lambda: mixer.of_kind("play"))
    assert mixer.of_kind("play")[0].path == str(recorded)

    broken = RecordingMixer(time_scale=0.02, broken=(recorded,))
    fallback = make_voice(site=site, mixer=broken)
    fallback.cue("take_receipt")
    wait_for(lambda: broken.of_kind("play"))
    assert broken.of_kind("play")[0].path == str(ASSETS / "voice" / "take_receipt.wav")


def test_muted_says_nothing_not_even_read_aloud(make_voice, mixer):
    voice = make_voice(settings=VoiceSettings(muted=True))
    assert voice.cue("take_receipt") is False
    assert voice.read_aloud(["home"]) is False
    time.sleep(0.1)
    assert mixer.played() == []


def test_without_automatic_prompts_only_read_aloud_speaks(make_voice, mixer):
    voice = make_voice(settings=VoiceSettings(auto=False))
    assert voice.cue("take_receipt") is False
    assert voice.read_aloud(["home"]) is True
    wait_for(lambda: mixer.played() == ["home"])


def test_quiet_hours_silence_cues_and_read_aloud_speaks_softly(make_voice, mixer):
    night = VoiceSettings(
        volume=0.9, quiet_hours=parse_quiet_hours("22:00-07:00"), quiet_volume=0.3
    )
    voice = make_voice(settings=night, now=lambda: dt.datetime(2026, 12, 4, 23, 30))
    assert voice.quiet_now() is True
    assert voice.cue("card_inserted") is False
    assert voice.read_aloud(["take_receipt"]) is True
    wait_for(lambda: mixer.played() == ["take_receipt"])
    assert mixer.of_kind("play")[0].volume == pytest.approx(0.3)

    day = make_voice(settings=night, now=lambda: dt.datetime(2026, 12, 4, 9, 0))
    assert day.quiet_now() is False and day.cue("card_inserted") is True


def test_unknown_keys_are_skipped_never_spoken_as_text(make_voice, mixer, caplog):
    voice = make_voice()
    assert voice.cue("王建军", "take_receipt") is True
    wait_for(lambda: mixer.played() == ["take_receipt"])
    assert voice.cue("140431197205200310") is False
    assert any("unknown prompt key" in r.message for r in caplog.records)
    assert not any("王建军" in r.getMessage() for r in caplog.records)  # keys are not logged text


def test_maintenance_volume_and_mute_survive_a_restart(make_voice, tmp_path):
    voice = make_voice()
    voice.set_volume(1.7)  # clamped
    voice.set_muted(True)
    saved = json.loads((tmp_path / SETTINGS_FILE_NAME).read_text(encoding="utf-8"))
    assert saved == {"volume": 1.0, "muted": True}
    restarted = load_overrides(VoiceSettings(volume=0.5), tmp_path)
    assert (restarted.volume, restarted.muted) == (1.0, True)


@pytest.mark.parametrize("content", ["", "{", '{"volume": 7, "muted": false}', "[1]"])
def test_a_damaged_settings_file_changes_nothing(tmp_path, content):
    (tmp_path / SETTINGS_FILE_NAME).write_text(content, encoding="utf-8")
    settings = VoiceSettings(volume=0.6, muted=False)
    assert load_overrides(settings, tmp_path) == settings


def test_the_clip_cache_unloads_what_it_drops(make_voice):
    mixer = RecordingMixer(time_scale=0.001)
    voice = make_voice(mixer=mixer)
    keys = [key for key in TABLE if key.startswith("item_")][:20]
    for key in keys:
        voice.cue(key)
        wait_for(lambda key=key: key in mixer.played())
    unloaded = [event.key for event in mixer.of_kind("unload")]
    assert unloaded == keys[: len(keys) - 12]  # the oldest beyond the 12 kept


def test_open_voice_reads_the_configuration(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text(
        '[voice]\nvolume = 0.5\nquiet_hours = "21:00-06:30"\nauto = false\n'
        f'[assets]\nsite_dir = "{tmp_path}"\n',
        encoding="utf-8",
    )
    mixer = RecordingMixer()
    voice = open_voice(
        load_config(site, environ={}), data_dir=tmp_path, catalogue=load_catalogue(), mixer=mixer
    )
    try:
        assert voice.settings.volume == 0.5 and voice.settings.auto is False
        assert str(voice.settings.quiet_hours) == "21:00-06:30"
        assert voice.library.site == Path(tmp_path)
        wait_for(lambda: voice.worker.device_ok is True)
    finally:
        voice.close()
    assert [e.kind for e in mixer.events] == ["prepare", "close"]


def test_quiet_hours_follow_the_service_points_clock_not_the_os_zone(tmp_path, monkeypatch):
    """22:30 in 沁源 is 14:30 UTC: on a kiosk whose OS runs in UTC the voice is still quiet."""
    monkeypatch.setenv("TZ", "UTC")
    site = tmp_path / "site.toml"
    site.write_text('[voice]\nquiet_hours = "22:00-07:00"\n', encoding="utf-8")
    config = load_config(site, environ={})
    assert config.kiosk.timezone == "Asia/Shanghai"
    for utc_hour, quiet in ((14, True), (3, False)):
        instant = dt.datetime(2026, 12, 4, utc_hour, 30, tzinfo=dt.UTC)
        voice = open_voice(
            config,
            data_dir=tmp_path,
            catalogue=load_catalogue(),
            mixer=RecordingMixer(),
            now_utc=lambda instant=instant: instant,
        )
        try:
            assert voice.quiet_now() is quiet
        finally:
            voice.close()


def test_a_mixer_that_raises_skips_the_clip_and_the_audio_thread_lives_on(make_voice, caplog):
    class Exploding(RecordingMixer):
        def load(self, path):
            if path.stem == "home":
                raise OSError("the driver fell over")
            return super().load(path)

    mixer = Exploding(time_scale=0.02)
    voice = make_voice(mixer=mixer)
    voice.cue("home", "take_receipt")
    wait_for(lambda: mixer.played() == ["take_receipt"])
    voice.cue("accepted")
    wait_for(lambda: mixer.played() == ["take_receipt", "accepted"])
    assert any(r.message == "sound failed" for r in caplog.records)
