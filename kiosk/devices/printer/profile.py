"""A printer's differences as data: paper width, native QR, cutter, printable character set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Font A on ESC/POS printers: 12×24 dots for ASCII, 24×24 for Chinese characters.
HALF_WIDTH_DOTS = 12
FULL_WIDTH_DOTS = 24
CHAR_HEIGHT_DOTS = 24
CHARSETS = ("gb18030", "gbk", "gb2312")


class ProfileError(ValueError):
    """The printer profile in config cannot describe a real printer (message names the field)."""


@dataclass(frozen=True)
class PrinterProfile:
    """What the printer can do. Text always goes out as GB18030 bytes (a superset of GBK and
    GB2312 with identical bytes for their characters); *charset* says which characters the
    printer's font actually has: ``gb2312`` for cheap printers, ``gbk``, or ``gb18030`` (its
    Basic Multilingual Plane part — printer fonts do not carry the supplementary planes).
    """

    paper_width_dots: int = 576
    native_qr: bool = True
    cut: bool = True
    charset: str = "gb18030"
    confirm_printed: bool = True

    def __post_init__(self) -> None:
        if not 128 <= self.paper_width_dots <= 832 or self.paper_width_dots % 8:
            raise ProfileError(
                f"paper_width_dots = {self.paper_width_dots}: expected a multiple of 8 in "
                "128..832 (58 mm = 384, 80 mm = 576)"
            )
        if self.charset not in CHARSETS:
            raise ProfileError(f"charset = {self.charset!r}: expected one of {CHARSETS}")

    @classmethod
    def from_section(cls, section: Any) -> PrinterProfile:
        """Build from a ``PrinterSection`` of the kiosk config."""
        return cls(
            paper_width_dots=section.paper_width_dots,
            native_qr=section.native_qr,
            cut=section.cut,
            charset=section.charset,
            confirm_printed=section.confirm_printed,
        )

    @property
    def columns(self) -> int:
        """Half-width (ASCII) columns per line at size 1; a Chinese character takes two."""
        return self.paper_width_dots // HALF_WIDTH_DOTS

    def can_print(self, char: str) -> bool:
        """True when the printer's font has *char* (control characters never print)."""
        if char < " " or char == "\x7f":
            return False
        if char < "\x80":
            return True
        if self.charset == "gb18030" and ord(char) > 0xFFFF:
            return False
        try:
            char.encode(self.charset)
        except UnicodeEncodeError:
            return False
        return True


def display_columns(text: str) -> int:
    """Width of *text* in half-width columns as the printer lays it out (non-ASCII = 2)."""
    return sum(1 if ch < "\x80" else 2 for ch in text)
