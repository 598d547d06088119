"""Colours and sizes of the kiosk UI, and the contrast arithmetic that keeps them readable.

Pure data and functions (no Kivy), so tests check every text/background pair is ≥ 7:1 (WCAG AAA)
and every size meets the elderly-friendly floors. Sizes are pixels at a 1080 px short side; the
app multiplies them by ``app.scale`` (short side / 1080), so a 1080×1920 portrait and a 1920×1080
landscape panel both get them unscaled. Colours are RGBA tuples of floats 0–1 (Kivy's format).
"""

from __future__ import annotations

from dataclasses import dataclass

RGBA = tuple[float, float, float, float]

REFERENCE_SHORT_SIDE_PX = 1080
MIN_BODY_TEXT_PX = 32
MIN_TOUCH_TARGET_PX = 120
MIN_CONTRAST = 7.0


def hex_rgba(code: str, alpha: float = 1.0) -> RGBA:
    """``"#0b4a8b"`` → ``(0.043, 0.29, 0.545, 1.0)``; raises ValueError on a malformed code."""
    text = code.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour {code!r} is not #rrggbb")
    red, green, blue = (int(text[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (red, green, blue, alpha)


def relative_luminance(colour: RGBA) -> float:
    """WCAG 2.x relative luminance of an opaque sRGB colour (alpha ignored)."""

    def linear(channel: float) -> float:
        if channel <= 0.04045:
            return channel / 12.92
        return ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in colour[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(foreground: RGBA, background: RGBA) -> float:
    """WCAG contrast ratio between two opaque colours, 1.0 (same) to 21.0 (black on white)."""
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


@dataclass(frozen=True)
class Palette:
    """The colours, named by role. Calm government blue on white; AAA contrast for all text."""

    page: RGBA = hex_rgba("#eef3f9")  # screen background
    surface: RGBA = hex_rgba("#ffffff")  # cards, tiles, list rows
    surface_pressed: RGBA = hex_rgba("#dbe7f5")
    primary: RGBA = hex_rgba("#0a3f7a")  # top bar, main buttons
    primary_pressed: RGBA = hex_rgba("#072c57")
    on_primary: RGBA = hex_rgba("#ffffff")
    accent_soft: RGBA = hex_rgba("#dce9f7")  # icon discs
    text: RGBA = hex_rgba("#14202e")
    text_muted: RGBA = hex_rgba("#3a4756")
    heading: RGBA = hex_rgba("#0a3f7a")
    border: RGBA = hex_rgba("#b7c7da")
    self_service: RGBA = hex_rgba("#0c5a2c")  # 自助办理 badge
    counter: RGBA = hex_rgba("#7a3b00")  # 柜台办理 badge
    on_badge: RGBA = hex_rgba("#ffffff")
    disabled: RGBA = hex_rgba("#474f58")
    on_disabled: RGBA = hex_rgba("#ffffff")
    overlay_dim: RGBA = hex_rgba("#000000", 0.55)
    warning_surface: RGBA = hex_rgba("#fff4e0")
    warning_text: RGBA = hex_rgba("#5c2c00")


PALETTE = Palette()

# Every (foreground, background) pair the screens draw text with; the contrast test walks it.
TEXT_PAIRS: tuple[tuple[str, str], ...] = (
    ("text", "page"),
    ("text", "surface"),
    ("text", "surface_pressed"),
    ("text_muted", "page"),
    ("text_muted", "surface"),
    ("heading", "page"),
    ("heading", "surface"),
    ("heading", "accent_soft"),
    ("on_primary", "primary"),
    ("on_primary", "primary_pressed"),
    ("on_badge", "self_service"),
    ("on_badge", "counter"),
    ("on_disabled", "disabled"),
    ("warning_text", "warning_surface"),
    ("self_service", "surface"),
    ("counter", "surface"),
)


@dataclass(frozen=True)
class Sizes:
    """Pixel sizes at a 1080 px short side (multiply by ``app.scale``)."""

    text_small: int = 32  # the floor: nothing a resident must read is smaller
    text_body: int = 36
    text_large: int = 42
    text_title: int = 48
    text_hero: int = 60
    text_countdown: int = 150
    touch_min: int = 120
    button_height: int = 132
    top_bar: int = 150
    bottom_bar: int = 170
    list_row: int = 168
    padding: int = 40
    spacing: int = 28
    radius: int = 24


SIZES = Sizes()
