"""One layout → ESC/POS bytes → preview PNG; the QR in the picture decodes; rare characters
go out as raster, never as '?'."""

import io
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pyzbar.pyzbar import decode

from kiosk.devices.printer import commands
from kiosk.devices.printer.glyphs import GlyphRenderer
from kiosk.devices.printer.layout import diagnostic_page_bytes, receipt_bytes, wrap
from kiosk.devices.printer.parser import parse_all
from kiosk.devices.printer.preview import PreviewRenderer, render_png
from kiosk.devices.printer.profile import PrinterProfile, ProfileError, display_columns
from kiosk.domain.receipt import Receipt, ReceiptLine, masked_person
from kiosk.fonts import find_cjk_font

QR_URL = "https://rs.example.invalid/r/JJB20261129-000123"


@pytest.fixture(scope="module")
def font():
    return find_cjk_font()


@pytest.fixture(scope="module")
def glyphs(font):
    return GlyphRenderer(font)


def receipt(name="李春英", **overrides):
    values = dict(
        service_point="沁源县沁河镇城关社区就业社保服务点",
        item_no="1-03",
        item_name="失业保险金申领",
        reference="JJB20261129-000123",
        submitted_at=datetime(2026, 11, 29, 10, 15),
        person=masked_person(name, "140431199001011234"),
        due_date=date(2026, 12, 10),
        due_estimated=True,
        lines=(ReceiptLine("申领月数", "3个月"),),
        qr_payload=QR_URL,
        queue_number="A012",
    )
    values.update(overrides)
    return Receipt(**values)


@pytest.mark.parametrize(
    ("width", "native"), [(576, True), (576, False), (384, True), (384, False)]
)
def test_receipt_preview_has_paper_width_and_a_decodable_qr(width, native, glyphs, font, tmp_path):
    profile = PrinterProfile(paper_width_dots=width, native_qr=native)
    data = receipt_bytes(receipt(), profile, glyphs)
    names = [op.name for op in parse_all(data)]
    assert ("qr_store" in names) is native
    assert names[-1] == "cut"
    png = render_png(data, width, font)
    image = Image.open(io.BytesIO(png))
    assert image.width == width
    assert 600 < image.height < 3000
    found = decode(image)
    assert [symbol.data.decode() for symbol in found] == [QR_URL]
    (tmp_path / f"receipt-{width}-{native}.png").write_bytes(png)


def test_rare_character_goes_out_as_a_raster_line_not_a_question_mark(glyphs, font):
    """GIVEN a GB2312-only printer WHEN the surname is 禤 (GBK only) THEN that line is raster."""
    cheap = PrinterProfile(paper_width_dots=384, charset="gb2312")
    ops = parse_all(receipt_bytes(receipt(name="禤国强"), cheap, glyphs))
    text = b"".join(op.data for op in ops if op.name == "text").decode("gb18030")
    assert "禤" not in text and "?" not in text
    assert "办理人" not in text  # the whole line moved into the raster band
    rasters = [op for op in ops if op.name == "raster"]
    assert len(rasters) == 1 and rasters[0].args[0] == 384 // 8
    assert any(rasters[0].data)  # it has ink
    # A GBK printer prints the same character as text.
    gbk = PrinterProfile(paper_width_dots=384, charset="gbk")
    ops = parse_all(receipt_bytes(receipt(name="禤国强"), gbk, glyphs))
    assert not [op for op in ops if op.name == "raster"]
    assert "禤" in b"".join(op.data for op in ops if op.name == "text").decode("gb18030")


@pytest.mark.parametrize(
    ("charset", "char", "printable"),
    [
        ("gb2312", "张", True),
        ("gb2312", "堃", False),
        ("gbk", "堃", True),
        ("gbk", "䶮", False),  # CJK Ext A: GB18030 only
        ("gb18030", "䶮", True),
        ("gb18030", "𠀀", False),  # supplementary plane: not in printer fonts
        ("gb18030", "\x1b", False),
    ],
)
def test_printable_set_is_part_of_the_profile(charset, char, printable):
    assert PrinterProfile(charset=charset).can_print(char) is printable


@pytest.mark.parametrize("width", [0, 100, 577, 1000])
def test_bad_paper_width_is_a_profile_error(width):
    with pytest.raises(ProfileError, match="paper_width_dots"):
        PrinterProfile(paper_width_dots=width)


def test_test_page_has_sizes_qr_and_cut(glyphs, font):
    profile = PrinterProfile()
    data = diagnostic_page_bytes(profile, glyphs, datetime(2026, 11, 29, 9, 0))
    ops = parse_all(data)
    sizes = {op.args[0] for op in ops if op.name == "size"}
    assert {0x00, 0x01, 0x10, 0x11} <= sizes
    assert ops[-1].name == "cut"
    image = PreviewRenderer(576, font).render_bytes(data).image
    assert [s.data for s in decode(image)] == [b"https://example.invalid/kiosk/test"]


def test_preview_draws_ink_where_text_is_and_reports_unknown_commands(font):
    data = commands.INIT + "就业".encode("gb18030") + commands.LF + b"\x1b\x99" + commands.CUT_FULL
    result = PreviewRenderer(384, font).render_bytes(data)
    assert result.cuts == 1
    assert result.warnings and "unknown" in result.warnings[0]
    assert result.image.getextrema()[0] == 0  # some black pixels


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_preview_of_arbitrary_bytes_never_crashes(font, data):
    result = PreviewRenderer(384, font).render(_ops_lenient(data))
    assert result.image.width == 384


def _ops_lenient(data):
    from kiosk.devices.printer.parser import EscPosParser

    return EscPosParser().feed(data)


@given(st.text(max_size=80), st.integers(min_value=4, max_value=48), st.integers(0, 10))
def test_wrap_respects_the_width_and_keeps_the_text(text, columns, indent):
    lines = wrap(text, columns, indent=min(indent, columns - 2))
    limit = max(columns, min(indent, columns - 2) + 2)
    assert all(display_columns(line) <= limit for line in lines)
    assert all(line.isprintable() for line in lines)
    visible = [ch for ch in text if ch.isprintable() and not ch.isspace()]
    assert [ch for ch in "".join(lines) if not ch.isspace()] == visible


@settings(max_examples=80, deadline=None)
@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.sampled_from(["gb2312", "gbk", "gb18030"]),
)
def test_encoded_line_is_exact_text_or_a_raster_never_a_substitute(glyphs, font, text, charset):
    from kiosk.devices.printer.encoder import EscPosEncoder

    profile = PrinterProfile(paper_width_dots=384, charset=charset)
    data = EscPosEncoder(profile, glyphs).initialize().line(text).to_bytes()
    ops = parse_all(data)
    texts = [op.data.decode("gb18030") for op in ops if op.name == "text"]
    rasters = [op for op in ops if op.name == "raster"]
    if all(profile.can_print(ch) for ch in text):
        assert "".join(texts) == text and not rasters
    else:
        assert texts == [] and len(rasters) == 1
    assert PreviewRenderer(384, font).render(ops).image.width == 384
