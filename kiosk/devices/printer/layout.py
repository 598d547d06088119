"""The one layout of a receipt and of the diagnostic test page, as ESC/POS bytes.

The same bytes go to the printer and, through :mod:`preview`, to the on-screen receipt, so the
screen always shows exactly what paper would. Pure: receipt + profile in, bytes out.
"""

from __future__ import annotations

from datetime import date, datetime

from kiosk.devices.printer.encoder import EscPosEncoder
from kiosk.devices.printer.glyphs import GlyphRenderer
from kiosk.devices.printer.profile import PrinterProfile, display_columns
from kiosk.domain.receipt import Receipt


def wrap(text: str, columns: int, indent: int = 0) -> list[str]:
    """Break *text* into lines of at most *columns* half-width columns (Chinese = 2).

    Continuation lines start with *indent* spaces. Breaks between any two characters, which is
    how Chinese text wraps; a run of ASCII is kept whole when it fits on one line.
    """
    columns = max(columns, indent + 2)
    text = "".join(ch if ch.isprintable() else " " for ch in text)  # newlines, tabs, controls
    lines: list[str] = []
    current, width = "", 0
    for token in _tokens(text):
        token_width = display_columns(token)
        if width + token_width > columns and current.strip():
            lines.append(current.rstrip())
            current, width = " " * indent, indent
            token = token.lstrip() if token.strip() else ""
            token_width = display_columns(token)
        if token_width > columns - width:  # a token longer than a whole line: split it
            for ch in token:
                ch_width = display_columns(ch)
                if width + ch_width > columns:
                    lines.append(current)
                    current, width = " " * indent, indent
                current += ch
                width += ch_width
            continue
        current += token
        width += token_width
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for ch in text:
        if (
            tokens
            and ch.isascii()
            and not ch.isspace()
            and tokens[-1][-1:].isascii()
            and (not tokens[-1][-1:].isspace())
        ):
            tokens[-1] += ch
        else:
            tokens.append(ch)
    return tokens


def format_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def format_time(value: datetime) -> str:
    return f"{format_date(value)} {value:%H:%M}"


def receipt_bytes(
    receipt: Receipt, profile: PrinterProfile, glyphs: GlyphRenderer, reprint: bool = False
) -> bytes:
    """The complete print job for *receipt*, ending with a cut (or a tear-off feed).

    *reprint* marks a receipt printed later from the print queue ("补打").
    """
    enc = EscPosEncoder(profile, glyphs)
    columns = profile.columns
    rule = "-" * columns
    enc.initialize()
    enc.align("center").bold().size(2, 2)
    for line in wrap(receipt.title, columns // 2):
        enc.line(line)
    enc.size(1, 1).bold(False)
    if reprint:
        enc.line("（补打）")
    for line in wrap(receipt.service_point, columns):
        enc.line(line)
    enc.align("left").line(rule)

    def field(label: str, value: str, bold: bool = False) -> None:
        if not value:
            return
        enc.bold(bold)
        prefix = f"{label}："
        for line in wrap(prefix + value, columns, indent=display_columns(prefix)):
            enc.line(line)
        enc.bold(False)

    field("办理事项", f"{receipt.item_no} {receipt.item_name}")
    field("办理人", receipt.person)
    field("代办人", receipt.agent)
    field("受理编号", receipt.reference, bold=True)
    field("提交时间", format_time(receipt.submitted_at))
    if receipt.deadline_text:
        field("办结时限", receipt.deadline_text)
    elif receipt.due_date:  # a receipt queued by an older version
        suffix = "（预计，以正式受理为准）" if receipt.due_estimated else ""
        field("办结时限", format_date(receipt.due_date) + suffix)
    for item in receipt.lines:
        field(item.label, item.value)
    enc.line(rule)
    enc.align("center").bold().size(2, 2)
    for line in wrap(receipt.status_text, columns // 2):
        enc.line(line)
    enc.size(1, 1).bold(False)
    if receipt.queue_number:
        enc.feed(1).line("请到柜台等候叫号，您的排队号")
        enc.bold().size(3, 3).line(receipt.queue_number).size(1, 1).bold(False)
    if receipt.qr_payload:
        enc.feed(1).qr(receipt.qr_payload)
        enc.align("center")
        for line in wrap(receipt.qr_caption, columns) if receipt.qr_caption else ():
            enc.line(line)
    if receipt.footer:
        enc.align("left").line(rule)
        for line in wrap(receipt.footer, columns):
            enc.line(line)
    enc.align("left").feed(2).cut()
    return enc.to_bytes()


def diagnostic_page_bytes(profile: PrinterProfile, glyphs: GlyphRenderer, now: datetime) -> bytes:
    """The `kiosk diag printer` page: Chinese text, sizes, bold, a rare character, QR, cut."""
    enc = EscPosEncoder(profile, glyphs)
    columns = profile.columns
    enc.initialize()
    enc.align("center").bold().size(2, 2).line("打印机测试页").size(1, 1).bold(False)
    enc.line(format_time(now))
    enc.align("left").line("-" * columns)
    enc.line(f"纸宽：{profile.paper_width_dots} 点（{columns} 列）")
    enc.line(f"字库：{profile.charset}  原生二维码：{'是' if profile.native_qr else '否'}")
    enc.line("中文：人力资源和社会保障 就近办")
    enc.line("ASCII: 0123456789 ABCDEFG abcdefg")
    enc.bold().line("粗体：社会保障卡").bold(False)
    enc.size(1, 2).line("倍高：就业登记").size(2, 1).line("倍宽：失业登记")
    enc.size(2, 2).line("倍宽倍高").size(1, 1)
    enc.line("生僻字（超出字库时以图像打印）：䶮 堃 禤")
    enc.line("-" * columns)
    enc.align("center").qr("https://example.invalid/kiosk/test")
    enc.line("扫码应得到 https://example.invalid/kiosk/test")
    enc.align("left").feed(2).cut()
    return enc.to_bytes()
