"""`kiosk voice list|say|check` and `kiosk diag sound`, run as a vendor runs them (subprocesses),
with SDL's real mixer on its dummy driver or on a driver that does not exist."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from kiosk.paths import shipped_dir

ROOT = Path(__file__).resolve().parents[1]
VOICE = shipped_dir("assets") / "voice"


def kiosk(*args: str, data_dir: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KIOSK_DATA_DIR": str(data_dir), **(env or {})},
        cwd=ROOT,
    )


@pytest.fixture
def site(tmp_path) -> Path:
    """A site folder with one good recording (a shipped clip under the name of another)."""
    folder = tmp_path / "site-assets"
    (folder / "voice").mkdir(parents=True)
    shutil.copy(VOICE / "accepted.wav", folder / "voice" / "take_receipt.wav")
    return folder


def test_voice_list_json_gives_key_text_file_and_seconds_of_every_prompt(data_dir):
    done = kiosk("voice", "list", "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    rows = {row["key"]: row for row in json.loads(done.stdout)}
    assert len(rows) == 83  # 43 prompts and the 40 items' and 4 categories' names
    receipt = rows["take_receipt"]
    assert receipt["text"] == "凭条已打印，请取走凭条。"
    assert receipt["file"] == str(VOICE / "take_receipt.wav")
    assert receipt["seconds"] == pytest.approx(3.71, abs=0.01)
    assert receipt["source"] == "shipped"
    assert all(row["seconds"] >= 0.3 for row in rows.values())


def test_voice_list_shows_which_prompts_a_site_folder_replaces(data_dir, site):
    env = {"KIOSK__ASSETS__SITE_DIR": str(site)}
    rows = {
        r["key"]: r
        for r in json.loads(kiosk("voice", "list", "--json", data_dir=data_dir, env=env).stdout)
    }
    assert rows["take_receipt"]["source"] == "site"
    assert rows["take_receipt"]["file"] == str(site / "voice" / "take_receipt.wav")
    assert rows["accepted"]["source"] == "shipped"
    text = kiosk("voice", "list", data_dir=data_dir, env=env).stdout
    assert "1 条使用站点录音" in text


def test_voice_say_plays_through_sdls_mixer_and_says_so(data_dir):
    done = kiosk(
        "voice", "say", "card_inserted", data_dir=data_dir, env={"SDL_AUDIODRIVER": "dummy"}
    )
    assert done.returncode == 0, done.stderr
    assert "card_inserted: 正在读卡，请不要拔卡。" in done.stdout
    assert "dummy" in done.stdout  # SDL's driver that played it


def test_voice_say_without_a_sound_device_is_exit_1_not_a_crash(data_dir):
    done = kiosk(
        "voice", "say", "card_inserted", data_dir=data_dir, env={"SDL_AUDIODRIVER": "nonexistent"}
    )
    assert done.returncode == 1
    assert "no sound device" in done.stderr and "Traceback" not in done.stderr


def test_voice_say_an_unknown_key_is_exit_2(data_dir):
    done = kiosk("voice", "say", "welcome_back", data_dir=data_dir)
    assert done.returncode == 2 and "unknown prompt key: welcome_back" in done.stderr


def test_voice_commands_that_play_nothing_do_not_import_kivy():
    code = (
        "import sys, contextlib, io\n"
        "from kiosk.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['voice', 'list', '--json'])\n"
        "    main(['voice', 'check', 'assets'])\n"
        "assert 'kivy' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_voice_check_passes_a_good_site_folder(data_dir, site):
    Image.new("RGB", (480, 240), (200, 30, 30)).save(site / "logo.png")
    done = kiosk("voice", "check", str(site), "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["recorded"] == ["take_receipt"]
    assert "accepted" in report["shipped"]
    files = {entry["file"]: entry for entry in report["files"]}
    assert files["voice/take_receipt.wav"]["text"] == "凭条已打印，请取走凭条。"
    assert files["logo.png"]["size"] == [480, 240]


def test_voice_check_names_every_file_that_must_be_fixed(data_dir, site):
    voice = site / "voice"
    (voice / "take_reciept.wav").write_bytes((VOICE / "accepted.wav").read_bytes())  # typo
    (voice / "accepted.wav").write_bytes(b"RIFF....WAVEnot really")
    data = bytearray((VOICE / "help_sent.wav").read_bytes())
    data[44:] = bytes(len(data) - 44)  # the header of a WAV, then silence
    (voice / "help_sent.wav").write_bytes(bytes(data))
    Image.new("RGB", (300, 100)).save(site / "logo.png", format="JPEG")
    done = kiosk("voice", "check", str(site), data_dir=data_dir)
    assert done.returncode == 1
    out = done.stdout
    assert "[FAIL] voice/take_reciept.wav" in out and "no prompt has this name" in out
    assert "[FAIL] voice/accepted.wav" in out and "not a PCM WAV" in out
    assert "[FAIL] voice/help_sent.wav" in out and "silent" in out
    assert "[FAIL] logo.png" in out and "must be a PNG" in out
    assert "[OK  ] voice/take_receipt.wav" in out


def test_voice_check_of_a_missing_folder_is_exit_2(data_dir, tmp_path):
    done = kiosk("voice", "check", str(tmp_path / "nowhere"), data_dir=data_dir)
    assert done.returncode == 2 and "not a folder" in done.stderr
    assert kiosk("voice", "check", data_dir=data_dir).returncode == 2  # none configured


def test_diag_sound_reports_the_driver_and_the_output(data_dir):
    done = kiosk("diag", "sound", "--json", data_dir=data_dir, env={"SDL_AUDIODRIVER": "dummy"})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["opened"] is True and report["driver"] == "dummy"
    assert report["library"] == "kivy"  # the SDL the kiosk plays through
    assert report["format"] == "44100 Hz, 2 channels"


def test_diag_sound_fails_a_site_kiosk_without_sound_and_passes_demo_mode(data_dir):
    env = {"SDL_AUDIODRIVER": "nonexistent"}
    demo = json.loads(kiosk("diag", "sound", "--json", data_dir=data_dir, env=env).stdout)
    assert demo["ok"] is True and demo["opened"] is False and "demo mode" in demo["note"]
    site = kiosk(
        "diag", "sound", "--json", data_dir=data_dir, env={**env, "KIOSK__KIOSK__MODE": "site"}
    )
    assert site.returncode == 1
    assert json.loads(site.stdout)["ok"] is False
    muted = {**env, "KIOSK__KIOSK__MODE": "site", "KIOSK__VOICE__MUTED": "true"}
    muted_env = {**muted, "KIOSK__DISPLAY__CHIME_VOLUME": "0"}
    skipped = json.loads(kiosk("diag", "sound", "--json", data_dir=data_dir, env=muted_env).stdout)
    assert skipped["ok"] is True and "muted" in skipped["skipped"]
