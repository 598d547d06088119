"""The theme's colours and sizes meet the elderly-friendly floors (pure: no Kivy, no display)."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.screens import theme


def test_contrast_ratio_matches_known_wcag_values():
    white, black = theme.hex_rgba("#ffffff"), theme.hex_rgba("#000000")
    assert theme.contrast_ratio(black, white) == pytest.approx(21.0)
    assert theme.contrast_ratio(white, white) == pytest.approx(1.0)
    # #767676 on white is the classic 4.54:1 AA boundary colour.
    assert theme.contrast_ratio(theme.hex_rgba("#767676"), white) == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(("fg", "bg"), theme.TEXT_PAIRS)
def test_every_text_colour_pair_reaches_seven_to_one(fg, bg):
    ratio = theme.contrast_ratio(getattr(theme.PALETTE, fg), getattr(theme.PALETTE, bg))
    assert ratio >= theme.MIN_CONTRAST, f"{fg} on {bg}: {ratio:.2f}:1"


def test_text_pairs_name_real_palette_roles():
    roles = {f.name for f in dataclasses.fields(theme.Palette)}
    assert {name for pair in theme.TEXT_PAIRS for name in pair} <= roles


def test_no_text_size_below_the_32px_floor_and_targets_at_least_120px():
    text_sizes = {
        f.name: getattr(theme.SIZES, f.name)
        for f in dataclasses.fields(theme.Sizes)
        if f.name.startswith("text_")
    }
    assert min(text_sizes.values()) >= theme.MIN_BODY_TEXT_PX, text_sizes
    assert theme.SIZES.touch_min >= theme.MIN_TOUCH_TARGET_PX
    assert theme.SIZES.button_height >= theme.MIN_TOUCH_TARGET_PX
    assert theme.SIZES.list_row >= theme.MIN_TOUCH_TARGET_PX


@pytest.mark.parametrize("bad", ["", "#fff", "#12345g", "0b4a8b0"])
def test_malformed_colour_codes_are_rejected(bad):
    with pytest.raises(ValueError):
        theme.hex_rgba(bad)
