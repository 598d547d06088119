"""The prompt table, the committed WAVs and their manifest, and the guards that keep personal data
out of anything the kiosk says. Pure: no Kivy, no sound device."""

from __future__ import annotations

import hashlib
import io
import math
import struct
import tomllib
import wave

import pytest

from kiosk.domain.catalogue import load_catalogue
from kiosk.domain.chime import chime_wav
from kiosk.domain.prompts import (
    PromptTableError,
    ScreenSpeech,
    catalogue_titles,
    compose,
    load_prompt_table,
    unspeakable,
)
from kiosk.domain.quiet_hours import QuietHoursError, parse_quiet_hours
from kiosk.domain.wav import PEAK_CEILING_DBFS, TARGET_ACTIVE_DBFS, analyse_wav, judge_clip
from kiosk.paths import shipped_dir
from kiosk.services.voice import prompt_table

VOICE = shipped_dir("assets") / "voice"
MANIFEST = tomllib.loads((VOICE / "manifest.toml").read_text(encoding="utf-8"))
TABLE = prompt_table(load_catalogue())

# Every screen and event of issue 17's list, by the key the kiosk asks for.
REQUIRED_KEYS = {
    "home",  # welcome
    "identify",  # the three ways to identify, in one sentence …
    "identify_sscard",  # … and each way on its own
    "identify_idcard",
    "identify_qr",
    "card_inserted",
    "card_unreadable",
    "take_card",
    "form",  # form hints
    "keypad",
    "picker",
    "pinyin",
    "accepted",  # 已受理
    "take_receipt",
    "printer_failed",  # … the receipt on screen
    "idle_warning",
    "idle_countdown",
    "help_sent",
    "session_ended",
}


def test_every_screen_and_event_of_the_issue_has_a_prompt():
    assert set(TABLE) >= REQUIRED_KEYS
    assert TABLE.text("accepted") == "您的申请已受理。"
    assert TABLE.text("take_receipt") == "凭条已打印，请取走凭条。"


def test_every_item_and_category_of_the_catalogue_has_a_spoken_title():
    catalogue = load_catalogue()
    assert {f"item_{item.no}" for item in catalogue.items} <= set(TABLE)
    assert TABLE.text("item_1") == "固定工求职登记"
    assert TABLE.text("category_4") == "我要办社保卡"
    # A slash would be read out: the spoken title says 、 instead.
    assert "/" not in "".join(catalogue_titles(catalogue).values())


@pytest.mark.parametrize("key", list(TABLE))
def test_every_key_has_a_valid_wav(key):
    """PCM 16-bit mono 22050 Hz, at least 0.3 s, not silent, at the common loudness."""
    data = (VOICE / f"{key}.wav").read_bytes()
    facts = analyse_wav(data)
    assert (facts.channels, facts.sample_width, facts.rate) == (1, 2, 22_050)
    assert facts.seconds >= 0.3
    assert facts.active_seconds >= 0.3  # really speaks
    assert abs(facts.active_dbfs - TARGET_ACTIVE_DBFS) < 0.5 or facts.peak_dbfs > -1.2
    assert facts.peak_dbfs <= PEAK_CEILING_DBFS + 0.01
    assert facts.lead_seconds < 0.2  # speaks at once
    assert judge_clip(data)[1].errors == ()


def test_no_wav_without_a_prompt_and_the_manifest_matches_the_table_and_files():
    """A sentence changed without `make voices` (a stale WAV) or a WAV replaced by hand fails."""
    assert {path.stem for path in VOICE.glob("*.wav")} == set(TABLE)
    clips = MANIFEST["clips"]
    assert set(clips) == set(TABLE)
    for key, clip in clips.items():
        assert clip["text"] == TABLE.text(key), f"{key}: run `make voices`"
        data = (VOICE / f"{key}.wav").read_bytes()
        assert clip["sha256"] == hashlib.sha256(data).hexdigest(), key
        assert clip["seconds"] == pytest.approx(analyse_wav(data).seconds, abs=0.001)


def test_the_manifest_header_names_the_generator():
    generator = MANIFEST["generator"]
    assert generator["voice"] == "cmn-latn-pinyin"
    assert generator["espeak_ng"].startswith("1.5")
    assert generator["target_active_dbfs"] == TARGET_ACTIVE_DBFS
    assert generator["rate_wpm"] < 175  # slower than espeak-ng's default, for elderly ears


def test_the_shipped_chime_is_the_generated_one():
    assert (shipped_dir("assets") / "sounds" / "help-chime.wav").read_bytes() == chime_wav()


# -- no personal data --------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(TABLE))
def test_no_prompt_can_carry_personal_data(key):
    """Every ID number, phone number, amount and masked value is written with digits, Latin
    letters or mask characters: no prompt holds one of them."""
    assert unspeakable(TABLE.text(key)) is None


@pytest.mark.parametrize(
    "text",
    [
        "您的身份证号是140431197205200310。",  # an ID number
        "请拨打13912345678。",  # a phone number
        "本月发放１２００元。",  # an amount (full-width digits)
        "欢迎您，王*军。",  # a masked name
        "您好 WANG JIANJUN",  # Latin letters (a name in pinyin)
        "编号＃",
    ],
)
def test_the_loader_refuses_a_sentence_with_personal_data(tmp_path, text):
    path = tmp_path / "prompts.toml"
    path.write_text(f'[prompts]\nbad_one = "{text}"\n', encoding="utf-8")
    with pytest.raises(PromptTableError) as info:
        load_prompt_table(path)
    assert str(path) in str(info.value) and "bad_one" in str(info.value)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[prompts]\n", r"no \[prompts\]"),
        ('[prompts]\n"Bad-Key" = "你好"\n', "Bad-Key"),
        ("[prompts]\nnumber = 3\n", "must be a string"),
        ("[prompts\n", "invalid TOML"),
        (b"\xff\xfe".decode("latin-1"), "not UTF-8"),
    ],
)
def test_a_broken_prompt_table_is_an_error_naming_the_file(tmp_path, content, words):
    path = tmp_path / "prompts.toml"
    path.write_bytes(content.encode("latin-1") if "\xff" in content else content.encode())
    with pytest.raises(PromptTableError, match=words):
        load_prompt_table(path)


def test_compose_says_guidance_on_entry_and_title_guidance_details_on_read_aloud():
    speech = ScreenSpeech(title="item_1", guidance=("identify",), details=("identify_qr",))
    assert compose(speech, read_aloud=False) == ("identify",)
    assert compose(speech, read_aloud=True) == ("item_1", "identify", "identify_qr")
    assert compose(ScreenSpeech(), read_aloud=True) == ()


# -- quiet hours -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "inside", "outside"),
    [
        ("22:00-07:00", ["22:00", "23:59", "00:00", "06:59"], ["07:00", "12:00", "21:59"]),
        ("12:00-13:30", ["12:00", "13:29"], ["11:59", "13:30", "00:00"]),
    ],
)
def test_quiet_hours_contain_their_start_not_their_end_across_midnight(span, inside, outside):
    import datetime as dt

    hours = parse_quiet_hours(span)
    assert str(hours) == span
    assert all(hours.contains(dt.time.fromisoformat(t)) for t in inside)
    assert not any(hours.contains(dt.time.fromisoformat(t)) for t in outside)


@pytest.mark.parametrize("span", ["22-07", "25:00-07:00", "08:00-08:00", "8:0-9:00", "晚上"])
def test_bad_quiet_hours_are_refused(span):
    with pytest.raises(QuietHoursError):
        parse_quiet_hours(span)
    assert parse_quiet_hours("  ") is None


# -- judging a clip (what `kiosk voice check` applies to a county's recordings) ---------------


def wav_bytes(samples: list[int], *, rate: int = 22_050, width: int = 2, channels: int = 1):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        if width == 2:
            out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
        else:
            out.writeframes(bytes(len(samples) * width))
    return buffer.getvalue()


def tone(seconds: float, level: float, *, rate: int = 22_050, lead: float = 0.0) -> list[int]:
    silence = [0] * int(lead * rate)
    peak = level * math.sqrt(2) * 32767
    body = [
        round(peak * math.sin(2 * math.pi * 300 * n / rate)) for n in range(int(seconds * rate))
    ]
    return silence + body


def test_a_good_recording_passes_and_its_loudness_is_measured():
    facts, verdict = judge_clip(wav_bytes(tone(1.0, 0.1)))  # RMS 0.1 = -20 dBFS
    assert verdict.ok and verdict.warnings == ()
    assert facts.active_dbfs == pytest.approx(-20.0, abs=0.2)
    assert facts.seconds == pytest.approx(1.0, abs=0.001)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (wav_bytes([0] * 22_050), "silent"),
        (wav_bytes(tone(0.2, 0.1)), "0.20 s long"),
        (wav_bytes([0] * 1000, width=1), "8-bit samples"),
        (wav_bytes([0] * 1000, width=3), "24-bit samples"),
        (wav_bytes(tone(1.0, 0.1, rate=11_025), rate=11_025), "11025 Hz"),
        (b"ID3\x03 an mp3, not a wav", "not a PCM WAV"),
        (b"", "not a PCM WAV"),
    ],
)
def test_unusable_recordings_are_refused_with_the_reason(data, error):
    _facts, verdict = judge_clip(data)
    assert not verdict.ok
    assert any(error in text for text in verdict.errors), verdict.errors


def test_loud_late_and_clipped_recordings_are_warned_about():
    samples = tone(1.0, 0.7, lead=1.5)
    samples[-1] = 32767
    _facts, verdict = judge_clip(wav_bytes(samples))
    assert verdict.ok
    text = " ".join(verdict.warnings)
    assert "louder than the built-in voice" in text
    assert "1.5 s of silence before the voice" in text
    assert "full scale" in text


def test_a_stereo_recording_is_judged_on_its_mix():
    left_right = [s for sample in tone(1.0, 0.1) for s in (sample, sample)]
    facts, verdict = judge_clip(wav_bytes(left_right, channels=2))
    assert verdict.ok and facts.channels == 2
    assert facts.seconds == pytest.approx(1.0, abs=0.001)
