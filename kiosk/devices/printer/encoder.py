"""Build the ESC/POS bytes of one print job (pure: no I/O; the driver sends the result).

Like python-escpos's ``Escpos`` class, one object encodes every command — but it only
accumulates bytes; sending them is the driver's single ``_raw`` hook. Printer differences come
from the :class:`PrinterProfile`: characters outside its printable set go out as a raster line,
QR codes as native ``GS ( k`` or as a raster rendered with the ``qrcode`` package.
"""

from __future__ import annotations

import qrcode
from PIL import Image

from kiosk.devices.printer import commands
from kiosk.devices.printer.glyphs import GlyphRenderer
from kiosk.devices.printer.profile import PrinterProfile

QR_ERROR_CORRECTION = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
QR_QUIET_ZONE_MODULES = 4
CUT_FEED_DOTS = 96  # move the last line past the cutter blade (about 12 mm)


def qr_matrix(data: bytes, error_level: str = "M") -> list[list[bool]]:
    """The QR symbol (smallest version that fits, no quiet zone) as rows of dark=True."""
    symbol = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION[error_level], border=0)
    symbol.add_data(data)
    symbol.make(fit=True)
    return symbol.get_matrix()


def default_qr_module_size(paper_width_dots: int) -> int:
    """Module size in dots that scans well from a phone and fits the paper (58 mm → 4)."""
    return 6 if paper_width_dots >= 512 else 4


class EscPosEncoder:
    """Accumulates one job. Call methods in printing order, then :meth:`to_bytes`.

    Not thread-safe; build one per job. Raises :class:`commands.CommandError` for arguments
    the printer cannot take.
    """

    def __init__(self, profile: PrinterProfile, glyphs: GlyphRenderer) -> None:
        self.profile = profile
        self._glyphs = glyphs
        self._out = bytearray()
        self._align = "left"
        self._bold = False
        self._size = (1, 1)

    def to_bytes(self) -> bytes:
        return bytes(self._out)

    def raw(self, data: bytes) -> EscPosEncoder:
        self._out += data
        return self

    def initialize(self) -> EscPosEncoder:
        """Reset the printer, enter Chinese (GB18030) mode, default line spacing."""
        self._align, self._bold, self._size = "left", False, (1, 1)
        return self.raw(commands.INIT + commands.CHINESE_ON + commands.LINE_SPACING_DEFAULT)

    def align(self, where: str) -> EscPosEncoder:
        self._align = where
        return self.raw(commands.align(where))

    def bold(self, on: bool = True) -> EscPosEncoder:
        self._bold = on
        return self.raw(commands.bold(on))

    def size(self, width: int = 1, height: int = 1) -> EscPosEncoder:
        self.raw(commands.char_size(width, height))
        self._size = (width, height)
        return self

    def line(self, text: str = "") -> EscPosEncoder:
        """Print one line (no wrapping here; see layout). Unprintable characters → raster."""
        if all(self.profile.can_print(ch) for ch in text):
            return self.raw(text.encode("gb18030") + commands.LF)
        picture = self._glyphs.line(text, *self._size, bold=self._bold)
        return self.image(picture, align=self._align)

    def feed(self, lines: int = 1) -> EscPosEncoder:
        return self.raw(commands.feed_lines(lines))

    def image(self, picture: Image.Image, align: str = "center") -> EscPosEncoder:
        """Print *picture* as GS v 0 raster bands (dark pixels = ink), placed per *align*."""
        width = self.profile.paper_width_dots
        mono = picture.convert("L").point(lambda v: 0 if v < 128 else 255, mode="1")
        if mono.width > width:
            mono = mono.resize((width, max(1, mono.height * width // mono.width)))
        canvas = Image.new("1", (width, mono.height), 1)
        offset = {"left": 0, "center": (width - mono.width) // 2, "right": width - mono.width}
        canvas.paste(mono, (offset.get(align, 0), 0))
        # "1;I" packs MSB-first with 1 = black, which is what GS v 0 expects.
        packed = canvas.tobytes("raw", "1;I")
        row_bytes = width // 8
        for top in range(0, canvas.height, commands.RASTER_BAND_ROWS):
            rows = min(commands.RASTER_BAND_ROWS, canvas.height - top)
            band = packed[top * row_bytes : (top + rows) * row_bytes]
            self.raw(commands.raster(row_bytes, rows, band))
        return self

    def qr(
        self, data: str, module_size: int | None = None, error_level: str = "M"
    ) -> EscPosEncoder:
        """Print a QR code of *data* (UTF-8), centred: native if the profile has it, else raster."""
        payload = data.encode("utf-8")
        module = module_size or default_qr_module_size(self.profile.paper_width_dots)
        if self.profile.native_qr:
            return self.raw(
                commands.ALIGN_CENTER
                + commands.qr_model(2)
                + commands.qr_module_size(module)
                + commands.qr_error_level(error_level)
                + commands.qr_store(payload)
                + commands.QR_PRINT
                + commands.LF
                + commands.align(self._align)
            )
        return self.image(qr_image(payload, module, error_level), align="center")

    def cut(self, partial: bool = False) -> EscPosEncoder:
        """Feed past the blade and cut; without a cutter, feed far enough to tear off."""
        if self.profile.cut:
            return self.raw(commands.cut(partial=partial, feed_dots=CUT_FEED_DOTS))
        return self.feed(6)


def qr_image(payload: bytes, module_size: int, error_level: str = "M") -> Image.Image:
    """The QR symbol with a quiet zone as a 1-bit image, *module_size* dots per module."""
    matrix = qr_matrix(payload, error_level)
    quiet = QR_QUIET_ZONE_MODULES
    side = (len(matrix) + 2 * quiet) * module_size
    picture = Image.new("1", (side, side), 1)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                left, top = (x + quiet) * module_size, (y + quiet) * module_size
                picture.paste(0, (left, top, left + module_size, top + module_size))
    return picture
