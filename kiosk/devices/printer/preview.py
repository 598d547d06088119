"""Draw what a printer would print from ESC/POS bytes, as a PNG at the paper width.

Interprets the subset the kiosk emits (init, align, bold, sizes, Chinese mode with GB18030
text, native QR store/print, GS v 0 raster, feed, cut) and ignores other known commands.
Used by the printer simulator, by tests and by the UI to show a receipt on screen when the
paper is out. Native QR symbols are drawn with the ``qrcode`` package at the module size the
printer was given, so the picture scans like the paper. Pure apart from loading the font.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from kiosk.devices.printer.encoder import qr_matrix
from kiosk.devices.printer.glyphs import GlyphRenderer
from kiosk.devices.printer.parser import Op, parse_all
from kiosk.devices.printer.profile import CHAR_HEIGHT_DOTS, FULL_WIDTH_DOTS, HALF_WIDTH_DOTS

DEFAULT_LINE_SPACING = 30  # dots; ESC 2 on a 203 dpi printer (about 1/6 inch)
MARGIN_DOTS = 16  # blank paper above the first line and below the last in the picture
QR_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}


@dataclass
class _Style:
    align: str = "left"
    bold: bool = False
    width: int = 1
    height: int = 1


@dataclass
class RenderResult:
    """The picture plus what the renderer could not draw (unknown commands, bad data)."""

    image: Image.Image
    cuts: int = 0
    warnings: list[str] = field(default_factory=list)
    # Where QR symbols were drawn: (top, bottom) in image rows, for a screen to show them.
    qr_spans: list[tuple[int, int]] = field(default_factory=list)

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG")
        return buffer.getvalue()


class PreviewRenderer:
    """Renders operations onto paper *paper_width_dots* wide. One instance can render many jobs
    (not concurrently: not thread-safe)."""

    def __init__(self, paper_width_dots: int, font_path: str | Path) -> None:
        self.width = paper_width_dots
        self._glyphs = GlyphRenderer(font_path)

    def render_bytes(self, data: bytes) -> RenderResult:
        """Render a complete job; raises :class:`parser.ParseError` if it is truncated."""
        return self.render(parse_all(data))

    def render(self, ops: list[Op]) -> RenderResult:
        job = _Job(self.width, self._glyphs)
        for op in ops:
            job.apply(op)
        return job.finish()


class _Job:
    def __init__(self, width: int, glyphs: GlyphRenderer) -> None:
        self.width = width
        self.glyphs = glyphs
        self.style = _Style()
        self.line_spacing = DEFAULT_LINE_SPACING
        self.strips: list[Image.Image] = [Image.new("L", (width, MARGIN_DOTS), 255)]
        self.line: list[tuple[str, _Style]] = []
        self.line_width = 0
        self.qr = {"size": 3, "level": "L", "data": b""}
        self.cut_marks: list[int] = []
        self.warnings: list[str] = []
        self.qr_spans: list[tuple[int, int]] = []

    # -- operations -----------------------------------------------------------------------
    def apply(self, op: Op) -> None:
        handler = getattr(self, f"_op_{op.name}", None)
        if handler is None:
            if op.name in ("unknown", "invalid"):
                self.warnings.append(f"{op.name} command {op.data[:8].hex(' ')}")
            return  # known but without effect on the picture (status queries, code pages)
        handler(op)

    def _op_init(self, op: Op) -> None:
        self.style = _Style()
        self.line_spacing = DEFAULT_LINE_SPACING

    def _op_align(self, op: Op) -> None:
        self.style.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center"}.get(
            op.args[0], "right" if op.args[0] == 50 else "left"
        )

    def _op_bold(self, op: Op) -> None:
        self.style.bold = bool(op.args[0] & 1)

    def _op_size(self, op: Op) -> None:
        n = op.args[0]
        self.style.width = min(8, (n >> 4) + 1)
        self.style.height = min(8, (n & 0x0F) + 1)

    def _op_print_mode(self, op: Op) -> None:
        n = op.args[0]
        self.style.bold = bool(n & 0x08)
        self.style.height = 2 if n & 0x10 else 1
        self.style.width = 2 if n & 0x20 else 1

    def _op_line_spacing(self, op: Op) -> None:
        self.line_spacing = op.args[0]

    def _op_line_spacing_default(self, op: Op) -> None:
        self.line_spacing = DEFAULT_LINE_SPACING

    def _op_text(self, op: Op) -> None:
        text = op.data.decode("gb18030" if op.args[0] else "cp437", errors="replace")
        for ch in text:
            cell = (HALF_WIDTH_DOTS if ch < "\x80" else FULL_WIDTH_DOTS) * self.style.width
            if self.line and self.line_width + cell > self.width:
                self._print_line()  # the printer wraps at the paper edge
            self.line.append((ch, _Style(**vars(self.style))))
            self.line_width += cell

    def _op_lf(self, op: Op) -> None:
        self._print_line()

    def _op_feed_lines(self, op: Op) -> None:
        if self.line:
            self._print_line()
            self._blank(self.line_spacing * max(0, op.args[0] - 1))
        else:
            self._blank(self.line_spacing * op.args[0])

    def _op_feed_dots(self, op: Op) -> None:
        self._flush()
        self._blank(op.args[0])

    def _op_qr_size(self, op: Op) -> None:
        self.qr["size"] = op.args[0] if op.args and 1 <= op.args[0] <= 16 else 3

    def _op_qr_error(self, op: Op) -> None:
        self.qr["level"] = QR_LEVELS.get(op.args[0] if op.args else 48, "L")

    def _op_qr_store(self, op: Op) -> None:
        self.qr["data"] = op.data

    def _op_qr_print(self, op: Op) -> None:
        self._flush()
        if not self.qr["data"]:
            self.warnings.append("QR print without stored data")
            return
        try:
            matrix = qr_matrix(self.qr["data"], self.qr["level"])
        except Exception as exc:  # the qrcode package rejects data too long for any version
            self.warnings.append(f"QR data cannot be encoded: {exc}")
            return
        module = self.qr["size"]
        side = len(matrix) * module
        symbol = Image.new("L", (side, side), 255)
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                if dark:
                    symbol.paste(0, (x * module, y * module, (x + 1) * module, (y + 1) * module))
        top = sum(strip.height for strip in self.strips)
        self.qr_spans.append((top, top + symbol.height))
        self._place(symbol)

    def _op_raster(self, op: Op) -> None:
        self._flush()
        width_bytes, height, mode = op.args
        picture = Image.frombytes("1", (width_bytes * 8, height), op.data, "raw", "1;I")
        scale_x = 2 if mode in (1, 3, 49, 51) else 1
        scale_y = 2 if mode in (2, 3, 50, 51) else 1
        if scale_x > 1 or scale_y > 1:
            picture = picture.resize((picture.width * scale_x, picture.height * scale_y))
        self._place(picture.convert("L"), align="left")

    def _op_cut(self, op: Op) -> None:
        self._flush()
        if len(op.args) > 1:
            self._blank(op.args[1])
        self.cut_marks.append(sum(strip.height for strip in self.strips))

    # -- drawing --------------------------------------------------------------------------
    def _flush(self) -> None:
        if self.line:
            self._print_line()

    def _print_line(self) -> None:
        if not self.line:
            self._blank(self.line_spacing)
            return
        pieces: list[Image.Image] = []
        run, style = "", self.line[0][1]
        for ch, ch_style in self.line:
            if ch_style != style:
                pieces.append(self.glyphs.line(run, style.width, style.height, style.bold))
                run, style = "", ch_style
            run += ch
        pieces.append(self.glyphs.line(run, style.width, style.height, style.bold))
        height = max(piece.height for piece in pieces)
        strip = Image.new("L", (sum(p.width for p in pieces), height), 255)
        x = 0
        for piece in pieces:  # baseline: bottoms aligned, like mixed sizes on paper
            strip.paste(piece, (x, height - piece.height))
            x += piece.width
        align = self.line[0][1].align
        self.line, self.line_width = [], 0
        gap = max(0, self.line_spacing - CHAR_HEIGHT_DOTS)
        self._place(strip, align=align, extra_below=gap)

    def _place(self, picture: Image.Image, align: str | None = None, extra_below: int = 0) -> None:
        align = align or self.style.align
        if picture.width > self.width:
            picture = picture.crop((0, 0, self.width, picture.height))
        strip = Image.new("L", (self.width, picture.height + extra_below), 255)
        left = {"center": (self.width - picture.width) // 2, "right": self.width - picture.width}
        strip.paste(picture, (left.get(align, 0), 0))
        self.strips.append(strip)

    def _blank(self, dots: int) -> None:
        if dots > 0:
            self.strips.append(Image.new("L", (self.width, dots), 255))

    def finish(self) -> RenderResult:
        self._flush()
        self._blank(MARGIN_DOTS)
        height = sum(strip.height for strip in self.strips)
        image = Image.new("L", (self.width, height), 255)
        y = 0
        for strip in self.strips:
            image.paste(strip, (0, y))
            y += strip.height
        draw = ImageDraw.Draw(image)
        for mark in self.cut_marks:
            if mark < height - MARGIN_DOTS:  # a cut between two receipts: show where
                for x in range(0, self.width, 16):
                    draw.line((x, mark, x + 8, mark), fill=160, width=1)
        return RenderResult(
            image=image, cuts=len(self.cut_marks), warnings=self.warnings, qr_spans=self.qr_spans
        )


def render_png(data: bytes, paper_width_dots: int, font_path: str | Path) -> bytes:
    """Convenience: PNG bytes of the complete job *data*."""
    return PreviewRenderer(paper_width_dots, font_path).render_bytes(data).png()
