"""scripts/build_voice.py: the committed voice is what the generator makes, and espeak-ng reads
every prompt as Mandarin. Needs Debian's espeak-ng (installed by `make test`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "build_voice.py"

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not installed (make deps-test installs it)",
)


def load_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_voice", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_installed_espeak_ng_is_the_one_that_made_the_committed_voice():
    build = load_script()
    manifest = tomllib.loads((ROOT / "assets" / "voice" / "manifest.toml").read_text("utf-8"))
    assert manifest["generator"]["espeak_ng"] == build.espeak_version(), (
        "espeak-ng changed: run `make voices` and commit assets/voice/"
    )


def test_a_few_clips_made_again_are_byte_identical_to_the_committed_ones():
    """Reproducible: the same texts through the same espeak-ng give the same files (a long
    prompt, a catalogue title with a slash, an event, and the chime)."""
    keys = "identify,item_30,card_inserted"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--keys", keys],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "checked 4 files, 0 differ" in done.stdout


def test_every_prompt_is_read_as_mandarin_with_no_english_switch():
    """Debian 12's espeak-ng reads third-tone syllables with plain `-v cmn` as English ("(en)"
    in its phonemes); the voice the generator uses must read every text in Mandarin."""
    build = load_script()
    table = build.full_table()
    english = [key for key in table if "(en)" in build.phonemes(table.text(key))]
    assert english == []


def test_the_generator_refuses_a_text_espeak_would_read_as_english():
    build = load_script()
    with pytest.raises(build.BuildError, match="as English"):
        build.synthesise("请拨打 hotline")
