"""Locate the CJK font every screen, receipt preview and test page uses.

A missing font must stop start-up with a clear message, never render boxes of tofu.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.paths import ShippedFilesMissing, shipped_dir

# Debian's fonts-wqy-microhei first (installed by `make run`), then other common CJK fonts.
SYSTEM_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


class FontNotFound(RuntimeError):
    """No usable CJK font: the message says what to install or configure."""


def find_cjk_font(configured: str = "") -> Path:
    """Return the configured font, else one shipped in assets/fonts/ (a slot, empty in this
    repository: a distributor may put a licensed font there), else a system CJK font."""
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FontNotFound(f"display.font = {configured!r}: no such font file")
        return path
    try:
        font_dir = shipped_dir("assets") / "fonts"
    except ShippedFilesMissing:
        font_dir = None
    candidates = font_dir.glob("*") if font_dir is not None else ()
    bundled = sorted(p for p in candidates if p.suffix in (".ttf", ".ttc", ".otf"))
    if bundled:
        return bundled[0]
    for candidate in SYSTEM_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontNotFound(
        "no Chinese (CJK) font found: install one with `apt-get install fonts-wqy-microhei` "
        "or set display.font to a .ttf/.ttc file"
    )
