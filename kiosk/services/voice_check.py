"""Checking a site folder of recordings before the kiosk uses it (``kiosk voice check DIR``).

A county records a person saying the prompts and puts the files in a folder laid out like the
shipped ``assets/`` (see assets/README.md). Each file is judged by :func:`kiosk.domain.wav.
judge_clip`; names must be prompt keys (a typo would otherwise leave the built-in voice in use
without anyone noticing). The report is JSON-ready; no Kivy.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.domain.prompts import PromptTable
from kiosk.domain.wav import judge_clip

LOGO_MAX_PIXELS = 4096


def _clip_entry(path: Path, relative: str) -> dict:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return {"file": relative, "ok": False, "errors": [f"cannot read: {exc.strerror}"]}
    facts, verdict = judge_clip(data)
    entry = {
        "file": relative,
        "ok": verdict.ok,
        "errors": list(verdict.errors),
        "warnings": list(verdict.warnings),
    }
    if facts is not None:
        entry["seconds"] = round(facts.seconds, 3)
        entry["active_dbfs"] = round(facts.active_dbfs, 1) if facts.active_seconds else None
    return entry


def _logo_entry(path: Path) -> dict:
    from PIL import Image, UnidentifiedImageError

    entry: dict = {"file": "logo.png", "ok": True, "errors": [], "warnings": []}
    try:
        with Image.open(path) as image:
            image.verify()
            width, height = image.size
            kind = image.format
    except (OSError, UnidentifiedImageError) as exc:
        entry.update(ok=False, errors=[f"not an image the kiosk can show ({exc})"])
        return entry
    if kind != "PNG":
        entry.update(ok=False, errors=[f"a {kind} image; the logo must be a PNG"])
    elif max(width, height) > LOGO_MAX_PIXELS:
        entry.update(ok=False, errors=[f"{width}×{height} pixels; at most {LOGO_MAX_PIXELS}"])
    elif height < 64:
        entry["warnings"].append(f"only {height} pixels high: it will look blurred")
    entry["size"] = [width, height]
    return entry


def check_site_folder(folder: Path, table: PromptTable) -> dict:
    """Judge every recording, the chime and the logo in *folder*; ``ok`` when none must be
    fixed. Keys the folder does not cover keep the built-in voice (listed as ``shipped``)."""
    entries = []
    covered = set()
    voice_dir = folder / "voice"
    for path in sorted(voice_dir.glob("*")) if voice_dir.is_dir() else []:
        relative = f"voice/{path.name}"
        if path.suffix.lower() != ".wav":
            entries.append({"file": relative, "ok": True, "errors": [], "warnings": ["ignored"]})
            continue
        if path.suffix != ".wav" or path.stem not in table:
            entries.append(
                {
                    "file": relative,
                    "ok": False,
                    "errors": ["no prompt has this name (see `kiosk voice list`)"],
                    "warnings": [],
                }
            )
            continue
        entry = _clip_entry(path, relative)
        entry["key"] = path.stem
        entry["text"] = table.text(path.stem)
        if entry["ok"]:
            covered.add(path.stem)
        entries.append(entry)
    chime = folder / "sounds" / "help-chime.wav"
    if chime.is_file():
        entries.append(_clip_entry(chime, "sounds/help-chime.wav"))
    logo = folder / "logo.png"
    if logo.is_file():
        entries.append(_logo_entry(logo))
    return {
        "folder": str(folder),
        "ok": all(entry["ok"] for entry in entries),
        "files": entries,
        "recorded": sorted(covered),
        "shipped": [key for key in table if key not in covered],
    }


def format_report(report: dict) -> str:
    """The report for people: one line per file, its problems under it, then a summary."""
    lines = [f"站点文件夹 / site folder: {report['folder']}"]
    for entry in report["files"]:
        verdict = "OK" if entry["ok"] else "FAIL"
        if entry["ok"] and entry["warnings"]:
            verdict = "WARN"
        seconds = f" {entry['seconds']:.1f}s" if entry.get("seconds") is not None else ""
        lines.append(f"[{verdict:4}] {entry['file']}{seconds}")
        lines += [f"         错误 error: {text}" for text in entry["errors"]]
        lines += [f"         提醒 warning: {text}" for text in entry["warnings"]]
    lines.append(
        f"{len(report['recorded'])} 条使用站点录音，{len(report['shipped'])} 条使用内置语音"
    )
    lines.append(
        "可以使用 / usable" if report["ok"] else "有文件需要修改 / fix the files marked FAIL"
    )
    return "\n".join(lines)
