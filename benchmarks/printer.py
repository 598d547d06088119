"""Receipt printing cost: bytes on the wire and time at 115200 baud, native vs raster QR,
58 and 80 mm paper, and the time to render the on-screen preview. Prints one JSON object.

Run: .venv/bin/python benchmarks/printer.py
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import date, datetime

from kiosk.devices.printer.glyphs import GlyphRenderer
from kiosk.devices.printer.layout import receipt_bytes
from kiosk.devices.printer.preview import PreviewRenderer
from kiosk.devices.printer.profile import PrinterProfile
from kiosk.domain.receipt import Receipt, ReceiptLine, masked_person
from kiosk.fonts import find_cjk_font

BAUD = 115200
BITS_PER_BYTE = 10  # 8N1: start + 8 data + stop
ROUNDS = 5


def standard_receipt() -> Receipt:
    return Receipt(
        service_point="沁源县沁河镇城关社区就业社保服务点",
        item_no="1-03",
        item_name="失业保险金申领",
        reference="JJB20261129-000123",
        submitted_at=datetime(2026, 11, 29, 10, 15),
        person=masked_person("李春英", "140431199001011234"),
        due_date=date(2026, 12, 10),
        lines=(
            ReceiptLine("申领月数", "3个月"),
            ReceiptLine("开户银行", "中国邮政储蓄银行沁源县支行"),
        ),
        deadline_text="2026年12月10日",
        # A progress URL as [receipt] progress_url makes it (number and check code).
        qr_payload="https://jjb.example.gov.cn/progress/BJ20261129000123?c=qxthr25gtgadckhh",
        qr_caption="手机扫码查询办理进度",
        footer="咨询电话 0355-7022000 周一至周五 上午8:30-12:00 下午14:30-17:30",
    )


def median_ms(action) -> float:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


def main() -> None:
    font = find_cjk_font()
    glyphs = GlyphRenderer(font)
    receipt = standard_receipt()
    result: dict = {"baud": BAUD}
    for width in (576, 384):
        preview = PreviewRenderer(width, font)
        for native in (True, False):
            profile = PrinterProfile(paper_width_dots=width, native_qr=native)
            data = receipt_bytes(receipt, profile, glyphs)
            key = f"{width}dots_{'native' if native else 'raster'}_qr"
            result[key] = {
                "bytes": len(data),
                "wire_ms_at_115200": round(len(data) * BITS_PER_BYTE / BAUD * 1000, 1),
                "layout_ms": median_ms(lambda p=profile: receipt_bytes(receipt, p, glyphs)),
                "preview_render_ms": median_ms(lambda d=data, r=preview: r.render_bytes(d).png()),
            }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
