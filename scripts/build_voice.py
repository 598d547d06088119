"""Generate the kiosk's voice: assets/voice/<key>.wav for every prompt and catalogue title, the
header file assets/voice/manifest.toml, and assets/sounds/help-chime.wav.

A developer's step (`make voices`), not the kiosk's: the WAVs are committed and the kiosk needs no
speech synthesiser. Sources: the prompt table (assets/voice/prompts.toml) and the catalogue's item
and category names (kiosk/domain/data/catalogue.toml), spoken by Debian's espeak-ng Mandarin voice.

Voice settings, for elderly listeners:
  * ``-v cmn-latn-pinyin``: espeak-ng's Mandarin voice. Debian 12's espeak-ng 1.51 reads every
    third-tone syllable with plain ``-v cmn`` as English letters and a number (你好 comes out
    "ni three hao three"); the same voice with Latin read as pinyin says the characters right,
    third-tone sandhi included. The script refuses a text whose phonemes switch to English.
  * ``-s 160`` words per minute (about three syllables a second with pauses, slower than
    espeak's 175); ``-p 40`` pitch (lower than the default 50: high frequencies are the first
    an ageing ear loses); ``-g 0``: no extra gap between syllables.
Each clip is trimmed to 80 ms of silence before and 250 ms after the voice, faded in and out
over 10 ms (no click), and normalised to -20 dBFS RMS over its voiced 20 ms frames with peaks
below -1 dBFS (kiosk.domain.wav), so every prompt is equally loud. Same espeak-ng package and
same texts → byte-identical files; ``--check`` proves it without writing.

    python3 scripts/build_voice.py           # write assets/voice/ and assets/sounds/
    python3 scripts/build_voice.py --check   # exit 1 if any committed file differs
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import subprocess
import sys
import tempfile
import wave
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kiosk.domain.catalogue import load_catalogue  # noqa: E402  (pure, no Kivy)
from kiosk.domain.chime import chime_wav  # noqa: E402
from kiosk.domain.prompts import (  # noqa: E402
    PROMPT_FILE_NAME,
    PromptTable,
    catalogue_titles,
    load_prompt_table,
)
from kiosk.domain.wav import (  # noqa: E402
    PEAK_CEILING_DBFS,
    SILENCE_DBFS,
    TARGET_ACTIVE_DBFS,
    analyse_wav,
    frame_levels,
    read_samples,
)

VOICE_DIR = ROOT / "assets" / "voice"
SOUNDS_DIR = ROOT / "assets" / "sounds"
MANIFEST_NAME = "manifest.toml"
CHIME_NAME = "help-chime.wav"
SCRIPT_VERSION = 1  # bump when the processing below changes the bytes it writes

ESPEAK = "espeak-ng"
VOICE = "cmn-latn-pinyin"
RATE_WPM = 160
PITCH = 40
WORD_GAP = 0  # units of 10 ms; Mandarin needs no extra gap between syllables
LEAD_SECONDS = 0.08
TAIL_SECONDS = 0.25
FADE_SECONDS = 0.01
_FULL_SCALE = 32767


class BuildError(RuntimeError):
    """The voice cannot be built (no espeak-ng, a text it cannot read in Mandarin, ...)."""


def espeak_version() -> str:
    """The Debian package version of espeak-ng (else its own version line)."""
    try:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", ESPEAK], capture_output=True, text=True
        )
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    except FileNotFoundError:
        pass
    try:
        done = subprocess.run([ESPEAK, "--version"], capture_output=True, text=True, check=True)
    except (FileNotFoundError, subprocess.CalledProcessError):
        raise BuildError("espeak-ng is not installed: apt-get install espeak-ng") from None
    return done.stdout.split("Data at")[0].split(":")[-1].strip()


def espeak_args(text: str) -> list[str]:
    return [ESPEAK, "-v", VOICE, "-s", str(RATE_WPM), "-p", str(PITCH), "-g", str(WORD_GAP), text]


def phonemes(text: str) -> str:
    """espeak-ng's phoneme transcription of *text* (``-x``), for the Mandarin check."""
    done = subprocess.run(
        [*espeak_args(text)[:-1], "-q", "-x", text], capture_output=True, text=True, check=True
    )
    return done.stdout


def synthesise(text: str) -> bytes:
    """The raw espeak-ng WAV of *text* (22050 Hz, mono, 16-bit)."""
    if "(en)" in phonemes(text):
        raise BuildError(f"espeak-ng reads part of {text!r} as English: reword it")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.wav"
        subprocess.run([*espeak_args(text)[:-1], "-w", str(out), text], check=True)
        return out.read_bytes()


def process(raw: bytes) -> bytes:
    """Trim, fade and normalise one clip (see the module docstring); a 16-bit mono WAV."""
    params, samples = read_samples(raw)
    rate = params.framerate
    levels = frame_levels(samples, rate)
    gate = 10 ** (SILENCE_DBFS / 20)
    active = [i for i, level in enumerate(levels) if level > gate]
    if not active:
        raise BuildError("espeak-ng produced silence")
    frame = int(rate * 0.02)
    voiced = samples[active[0] * frame : (active[-1] + 1) * frame]
    voiced_levels = [levels[i] for i in active]
    loudness = math.sqrt(sum(level**2 for level in voiced_levels) / len(voiced_levels))
    peak = max(abs(s) for s in voiced) / 32768
    gain = min(10 ** (TARGET_ACTIVE_DBFS / 20) / loudness, 10 ** (PEAK_CEILING_DBFS / 20) / peak)
    fade = int(rate * FADE_SECONDS)
    last = len(voiced) - 1
    out = array("h", bytes(2 * int(rate * LEAD_SECONDS)))
    for n, sample in enumerate(voiced):
        ramp = min(1.0, n / fade, (last - n) / fade)
        out.append(max(-_FULL_SCALE, min(_FULL_SCALE, round(sample * gain * ramp))))
    out.extend(array("h", bytes(2 * int(rate * TAIL_SECONDS))))
    if sys.byteorder == "big":
        out.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(out.tobytes())
    return buffer.getvalue()


def full_table() -> PromptTable:
    """The prompts plus the catalogue's spoken titles: everything that gets a WAV."""
    prompts = load_prompt_table(VOICE_DIR / PROMPT_FILE_NAME)
    return prompts.with_titles(catalogue_titles(load_catalogue()))


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def manifest_text(version: str, clips: dict[str, tuple[str, bytes]]) -> str:
    """The header file: how the clips were made, then each clip's text, length and hash."""
    lines = [
        "# Generated by scripts/build_voice.py (`make voices`); do not edit by hand.",
        "# The kiosk's built-in voice: which synthesiser made each clip from which text.",
        "",
        "[generator]",
        f"script_version = {SCRIPT_VERSION}",
        f"espeak_ng = {_toml_string(version)}",
        f"voice = {_toml_string(VOICE)}",
        f"rate_wpm = {RATE_WPM}",
        f"pitch = {PITCH}",
        f"word_gap_10ms = {WORD_GAP}",
        f"target_active_dbfs = {TARGET_ACTIVE_DBFS}",
        f"peak_ceiling_dbfs = {PEAK_CEILING_DBFS}",
        "",
    ]
    for key, (text, data) in clips.items():
        facts = analyse_wav(data)
        lines += [
            f"[clips.{key}]",
            f"text = {_toml_string(text)}",
            f"seconds = {facts.seconds:.3f}",
            f'sha256 = "{hashlib.sha256(data).hexdigest()}"',
            "",
        ]
    return "\n".join(lines)


def build(keys: list[str] | None = None) -> dict[Path, bytes]:
    """Every file the script writes, path → bytes (only the clips of *keys* when given; the
    manifest is then left out)."""
    version = espeak_version()
    table = full_table()
    wanted = list(table) if keys is None else keys
    unknown = [key for key in wanted if key not in table]
    if unknown:
        raise BuildError(f"no such prompt: {', '.join(unknown)}")
    clips = {key: (table.text(key), process(synthesise(table.text(key)))) for key in wanted}
    files = {VOICE_DIR / f"{key}.wav": data for key, (_text, data) in clips.items()}
    files[SOUNDS_DIR / CHIME_NAME] = chime_wav()
    if keys is None:
        files[VOICE_DIR / MANIFEST_NAME] = manifest_text(version, clips).encode("utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    parser.add_argument("--keys", help="only these comma-separated keys (with --check)")
    args = parser.parse_args(argv)
    keys = args.keys.split(",") if args.keys else None
    if keys is not None and not args.check:
        parser.error("--keys only with --check: a full build keeps the manifest complete")
    try:
        files = build(keys)
    except BuildError as exc:
        print(f"build_voice: {exc}", file=sys.stderr)
        return 2
    if args.check:
        stale = [p for p, data in files.items() if not p.is_file() or p.read_bytes() != data]
        for path in stale:
            print(f"differs: {path.relative_to(ROOT)}")
        print(f"checked {len(files)} files, {len(stale)} differ")
        return 1 if stale else 0
    SOUNDS_DIR.mkdir(parents=True, exist_ok=True)
    for old in VOICE_DIR.glob("*.wav"):
        if old not in files:
            old.unlink()
    for path, data in files.items():
        path.write_bytes(data)
    print(f"wrote {len(files)} files under {VOICE_DIR.parent.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
