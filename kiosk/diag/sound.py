"""`kiosk diag sound [--json]`: the sound output the kiosk's voice and help chime play through.

Asks SDL2 (the copy the kiosk plays through, :func:`kiosk.devices.sound.load_sdl`; no Kivy
import) which audio driver it uses and which output devices it sees, then opens and closes the
default output as the kiosk's mixer does, and lists the sound cards the kernel knows
(``/proc/asound/cards``). ``ok`` is False when the
configuration wants sound (voice not muted, or a help chime volume above 0) and no output can be
opened on a site kiosk; in demo mode a machine without sound passes (the kiosk is then silent,
never failing). To hear the speaker itself: ``kiosk voice say KEY``. Exit 0 when ok, 1 otherwise.
"""

from __future__ import annotations

import argparse
import ctypes
import json
from pathlib import Path
from typing import Any

SDL_INIT_AUDIO = 0x10
AUDIO_S16LSB = 0x8010
ALSA_CARDS = Path("/proc/asound/cards")


class _AudioSpec(ctypes.Structure):
    _fields_ = [
        ("freq", ctypes.c_int),
        ("format", ctypes.c_uint16),
        ("channels", ctypes.c_uint8),
        ("silence", ctypes.c_uint8),
        ("samples", ctypes.c_uint16),
        ("padding", ctypes.c_uint16),
        ("size", ctypes.c_uint32),
        ("callback", ctypes.c_void_p),
        ("userdata", ctypes.c_void_p),
    ]


def register(diag_subparsers: argparse._SubParsersAction) -> None:
    parser = diag_subparsers.add_parser(
        "sound", help="sound output: SDL driver, devices, can the default output open"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--config", dest="sound_config", help="kiosk config file (TOML)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config

    config_path = getattr(args, "sound_config", None) or getattr(args, "config", None)
    report = check(load_config(config_path))
    print(json.dumps(report, ensure_ascii=False) if args.json else format_report(report))
    return 0 if report["ok"] else 1


def alsa_cards(path: Path = ALSA_CARDS) -> list[str]:
    """The kernel's sound cards, one line each ("0 [PCH]: HDA-Intel - HDA Intel PCH")."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [" ".join(line.split()) for line in lines if line[:4].strip().isdigit()]


def sdl_output() -> dict[str, Any]:
    """SDL2's audio driver, its output devices, and whether the default output opens."""
    from kiosk.devices.sound import SoundUnavailable, load_sdl

    try:
        libraries = load_sdl(need_mixer=False)
    except (SoundUnavailable, OSError) as exc:
        return {"opened": False, "error": str(exc)}
    sdl = libraries.sdl
    sdl.SDL_OpenAudioDevice.restype = ctypes.c_uint32
    sdl.SDL_OpenAudioDevice.argtypes = [
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.POINTER(_AudioSpec),
        ctypes.POINTER(_AudioSpec),
        ctypes.c_int,
    ]
    if sdl.SDL_InitSubSystem(SDL_INIT_AUDIO) < 0:
        return {"opened": False, "error": _text(sdl.SDL_GetError())}
    try:
        driver = _text(sdl.SDL_GetCurrentAudioDriver())
        count = sdl.SDL_GetNumAudioDevices(0)
        devices = [_text(sdl.SDL_GetAudioDeviceName(i, 0)) for i in range(max(0, count))]
        want = _AudioSpec(freq=44100, format=AUDIO_S16LSB, channels=2, samples=1024)
        have = _AudioSpec()
        device = sdl.SDL_OpenAudioDevice(None, 0, ctypes.byref(want), ctypes.byref(have), 0)
        facts = {"library": libraries.origin, "driver": driver, "devices": devices}
        if device == 0:
            return {"opened": False, **facts, "error": _text(sdl.SDL_GetError())}
        sdl.SDL_CloseAudioDevice(device)
        return {"opened": True, **facts, "format": f"{have.freq} Hz, {have.channels} channels"}
    finally:
        sdl.SDL_QuitSubSystem(SDL_INIT_AUDIO)


def _text(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", errors="replace")


def check(config: Any) -> dict[str, Any]:
    """The sound check of ``kiosk diag all`` (see the module docstring)."""
    wanted = (not config.voice.muted and config.voice.volume > 0) or (
        config.display.chime_volume > 0
    )
    report: dict[str, Any] = {**sdl_output(), "alsa_cards": alsa_cards(), "wanted": wanted}
    if not wanted:
        report.update(ok=True, skipped="voice muted and chime volume 0 in config")
        return report
    report["ok"] = report["opened"] or config.is_demo
    if not report["opened"] and config.is_demo:
        report["note"] = "demo mode: no sound output here; the kiosk runs silently"
    return report


def format_report(report: dict[str, Any]) -> str:
    verdict = "SKIP" if report.get("skipped") else ("OK" if report["ok"] else "FAIL")
    lines = [f"[{verdict:4}] 声音输出 sound output"]
    for key in ("library", "driver", "format", "devices", "alsa_cards", "error", "note", "skipped"):
        if report.get(key) not in (None, "", []):
            lines.append(f"         {key}: {report[key]}")
    return "\n".join(lines)
