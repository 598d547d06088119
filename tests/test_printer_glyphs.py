"""Rare name characters are drawn with a fallback font, not as the missing-glyph box."""

from pathlib import Path

import pytest

from kiosk.devices.printer.glyphs import FALLBACK_FONTS, GlyphRenderer
from kiosk.fonts import find_cjk_font

HANAZONO = Path(FALLBACK_FONTS[0])


@pytest.fixture(scope="module")
def main_font_only():
    return GlyphRenderer(find_cjk_font(), fallbacks=())


def test_missing_glyph_is_detected(main_font_only):
    assert main_font_only.has_glyph("中")
    assert main_font_only.has_glyph("禤")
    # U+4DAE (CJK extension A) is not in WenQuanYi Micro Hei, the usual main font.
    if "wqy" in str(find_cjk_font()):
        assert not main_font_only.has_glyph("䶮")
        assert not main_font_only.has_glyph("𠀀")


@pytest.mark.skipif(not HANAZONO.is_file(), reason="needs Debian fonts-hanazono")
@pytest.mark.parametrize("char", ["䶮", "𠀀", "𪚥"])
def test_fallback_font_draws_extension_characters(main_font_only, char):
    renderer = GlyphRenderer(find_cjk_font())
    assert renderer.has_glyph(char)
    drawn = renderer.line(char).tobytes()
    assert drawn != main_font_only.line(char).tobytes()  # not the missing-glyph box
    assert min(drawn) == 0  # ink


def test_ascii_and_common_characters_keep_the_main_font(main_font_only):
    renderer = GlyphRenderer(find_cjk_font())
    assert renderer.line("A中").tobytes() == main_font_only.line("A中").tobytes()
    assert renderer.line("就业", 2, 2, bold=True).size == (96, 48)
