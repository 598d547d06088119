"""Draw a line of text as the printer's font would: fixed 12/24-dot cells, 24 dots high.

Shared by the encoder (characters the printer cannot print go out as a raster line) and by
the preview renderer (text the printer prints), so both look alike. Rare name characters (CJK
extensions A–F) are exactly the ones the main UI font lacks, so a character the main font has
no glyph for is drawn with the first fallback font that has one (Debian ``fonts-hanazono``
covers extensions A–F); only if none has it does the missing-glyph box appear.
Pure apart from reading font files, which are loaded once per :class:`GlyphRenderer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kiosk.devices.printer.profile import CHAR_HEIGHT_DOTS, FULL_WIDTH_DOTS, HALF_WIDTH_DOTS

FALLBACK_FONTS = (
    "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",  # BMP incl. extension A
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",  # extensions B–F
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
FONT_SIZE = CHAR_HEIGHT_DOTS - 2
BASELINE = 19  # dots from the cell top: CJK fits above, descenders (g, y) below
_NEVER_A_GLYPH = "\U0010fffd"  # private use: renders as the font's missing-glyph box


class GlyphRenderer:
    """Renders text cells with a CJK font (a .ttc is opened at index 0). Not thread-safe."""

    def __init__(self, font_path: str | Path, fallbacks: Sequence[str | Path] = FALLBACK_FONTS):
        paths = [Path(font_path)] + [Path(p) for p in fallbacks if Path(p).is_file()]
        # BASIC layout: one character per cell needs no shaping, and raqm fails on some input.
        self._fonts = [
            ImageFont.truetype(str(path), FONT_SIZE, index=0, layout_engine=ImageFont.Layout.BASIC)
            for path in paths
        ]
        self._missing = [_mask_key(font, _NEVER_A_GLYPH) for font in self._fonts]
        self._font_of: dict[str, ImageFont.FreeTypeFont] = {}

    def font_for(self, char: str) -> ImageFont.FreeTypeFont:
        """The first font with a real glyph for *char* (the main font if none has one)."""
        font = self._font_of.get(char)
        if font is None:
            font = self._fonts[0]
            if char >= "\x80" and not char.isspace():
                for candidate, missing in zip(self._fonts, self._missing, strict=True):
                    if _mask_key(candidate, char) != missing:
                        font = candidate
                        break
            self._font_of[char] = font
        return font

    def has_glyph(self, char: str) -> bool:
        """True when some loaded font can draw *char* (not just its missing-glyph box)."""
        font = self.font_for(char)
        return _mask_key(font, char) != self._missing[self._fonts.index(font)]

    def line(self, text: str, width: int = 1, height: int = 1, bold: bool = False) -> Image.Image:
        """An "L" image (255 = paper, 0 = ink) of *text* at the given size multipliers."""
        cells = [HALF_WIDTH_DOTS if ch < "\x80" else FULL_WIDTH_DOTS for ch in text]
        base = Image.new("L", (max(1, sum(cells)), CHAR_HEIGHT_DOTS), 255)
        draw = ImageDraw.Draw(base)
        x = 0
        for ch, cell in zip(text, cells, strict=True):
            if ch.isprintable():
                try:
                    font = self.font_for(ch)
                    left = x + max(0, (cell - font.getlength(ch)) / 2)
                    for dx in (0, 1) if bold else (0,):
                        draw.text((left + dx, BASELINE), ch, font=font, fill=0, anchor="ls")
                except (OSError, RuntimeError, ValueError):
                    draw.rectangle((x + 2, 4, x + cell - 3, CHAR_HEIGHT_DOTS - 4), outline=0)
            x += cell
        if width == 1 and height == 1:
            return base
        return base.resize((base.width * width, base.height * height), Image.Resampling.NEAREST)


def _mask_key(font: ImageFont.FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)
