"""``kiosk voice list|say|check``: the kiosk's spoken prompts, for vendors and counties.

* ``kiosk voice list [--json]`` — every prompt: key, text, the file the kiosk plays (a site
  recording when ``[assets] site_dir`` has one, else the shipped voice), its length in seconds.
* ``kiosk voice say KEY`` — play one prompt through SDL2's mixer, as the kiosk does: a vendor
  checking the speaker. Exit 0 played, 1 no sound device, 2 unknown key.
* ``kiosk voice check [DIR]`` — check a site folder of recordings (default: the configured
  ``[assets] site_dir``): every ``voice/<key>.wav`` must have a known key, be 16-bit PCM WAV, last
  at least 0.3 s and not be silent; loudness far from the built-in voice, a long silence before
  the voice and clipping are warnings. ``sounds/help-chime.wav`` and ``logo.png`` are checked
  too. Exit 0 usable, 1 a file must be fixed, 2 no such folder.

None of them imports Kivy (``say`` drives SDL2's mixer directly, as the kiosk does).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import wave
from pathlib import Path

EXIT_NO_DEVICE = 1
EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("voice", help="spoken prompts: list, say, check a site folder")
    parser.add_argument("--config", help="site config file (TOML), overlaid on the defaults")
    commands = parser.add_subparsers(dest="voice_command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", help="every prompt with its text, file and length")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(func=run_list)
    say = commands.add_parser("say", help="play one prompt (checks the speaker)")
    say.add_argument("key", help="prompt key, e.g. take_receipt (see `kiosk voice list`)")
    say.add_argument("--volume", type=float, default=None, help="0 to 1 (default: configured)")
    say.set_defaults(func=run_say)
    check = commands.add_parser("check", help="check a site folder of recordings")
    check.add_argument("dir", nargs="?", type=Path, help="the folder (default: [assets] site_dir)")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(func=run_check)


def _setup(args: argparse.Namespace):
    from kiosk.config import load_config
    from kiosk.domain.catalogue import load_catalogue
    from kiosk.services.voice import prompt_table, voice_library

    config = load_config(args.config)
    return config, prompt_table(load_catalogue()), voice_library(config)


def wav_seconds(path: Path) -> float | None:
    """Length of a WAV file from its header; None when it is not one Python can read."""
    try:
        with wave.open(str(path)) as clip:
            return clip.getnframes() / clip.getframerate()
    except (OSError, EOFError, RuntimeError, wave.Error, ZeroDivisionError):
        return None


def prompt_rows(table, library) -> list[dict]:
    """One JSON-ready row per prompt: key, text, file, seconds, source (site/shipped/missing)."""
    rows = []
    for key in table:
        path = library.voice_file(key)
        source = "missing" if path is None else "shipped"
        if path is not None and library.site is not None and library.site in path.parents:
            source = "site"
        rows.append(
            {
                "key": key,
                "text": table.text(key),
                "file": str(path) if path else None,
                "seconds": round(wav_seconds(path), 3) if path else None,
                "source": source,
            }
        )
    return rows


def run_list(args: argparse.Namespace) -> int:
    _config, table, library = _setup(args)
    rows = prompt_rows(table, library)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for row in rows:
        seconds = f"{row['seconds']:5.1f}s" if row["seconds"] is not None else "  缺失"
        mark = "*" if row["source"] == "site" else " "
        print(f"{row['key']:<22} {seconds}{mark} {row['text']}")
    sites = sum(row["source"] == "site" for row in rows)
    print(f"共 {len(rows)} 条提示音，{sites} 条使用站点录音（*）")
    return 0


def run_say(args: argparse.Namespace) -> int:
    config, table, library = _setup(args)
    if args.key not in table:
        print(f"没有这条提示音 / unknown prompt key: {args.key}", file=sys.stderr)
        return EXIT_USAGE
    volume = config.voice.volume if args.volume is None else max(0.0, min(1.0, args.volume))
    from kiosk.devices.sound import SdlMixer

    mixer = SdlMixer()
    try:
        for path in library.sound(args.key).paths:  # the site's recording, else the shipped
            clip = mixer.load(path)
            if clip is None:
                continue
            clip.play(volume)
            time.sleep(clip.length + 0.2)
            clip.unload()
            print(
                f"{args.key}: {table.text(args.key)}  ({path}, {clip.length:.1f} s, "
                f"volume {volume:.2f}, {mixer.driver})"
            )
            return 0
    finally:
        mixer.close()
    print(f"没有可用的声音设备 / no sound device could play it: {mixer.error}", file=sys.stderr)
    return EXIT_NO_DEVICE


def run_check(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.domain.catalogue import load_catalogue
    from kiosk.services.voice import prompt_table
    from kiosk.services.voice_check import check_site_folder, format_report

    folder = args.dir
    if folder is None:
        site = load_config(args.config).assets.site_dir
        if not site:
            print("未配置站点文件夹 / no [assets] site_dir configured: give DIR", file=sys.stderr)
            return EXIT_USAGE
        folder = Path(site)
    if not folder.is_dir():
        print(f"没有这个文件夹 / not a folder: {folder}", file=sys.stderr)
        return EXIT_USAGE
    report = check_site_folder(folder, prompt_table(load_catalogue()))
    print(json.dumps(report, ensure_ascii=False) if args.json else format_report(report))
    return 0 if report["ok"] else 1
