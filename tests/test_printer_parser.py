"""The ESC/POS stream parser: never crashes, incremental = one-shot, finds real boundaries."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.devices.printer import commands
from kiosk.devices.printer.parser import EscPosParser, Op, ParseError, parse_all


def test_known_commands_and_gb18030_text():
    data = (
        commands.INIT
        + commands.CHINESE_ON
        + commands.ALIGN_CENTER
        + commands.char_size(2, 2)
        + "办理凭证 䶮𠀀".encode("gb18030")
        + commands.LF
        + commands.qr_store(b"REF-1")
        + commands.QR_PRINT
        + commands.raster(1, 2, b"\x1d\x56")  # a "cut" inside raster data is not a cut
        + commands.cut(feed_dots=96)
    )
    ops = parse_all(data)
    assert [op.name for op in ops] == [
        "init",
        "chinese_on",
        "align",
        "size",
        "text",
        "lf",
        "qr_store",
        "qr_print",
        "raster",
        "cut",
    ]
    assert ops[4].data.decode("gb18030") == "办理凭证 䶮𠀀"
    assert ops[6].data == b"REF-1"
    assert ops[8] == Op("raster", (1, 2, 0), b"\x1d\x56")
    assert ops[9].args == (65, 96)


def test_status_queries_are_separate_ops():
    ops = parse_all(commands.STATUS_PRINTER + commands.TRANSMIT_PAPER_STATUS)
    assert ops == [Op("status_query", (1,)), Op("paper_status_query", (1,))]


def test_truncated_job_raises_parse_error():
    with pytest.raises(ParseError):
        parse_all(commands.raster(2, 2, b"\x00" * 4)[:-1])


def test_corrupt_raster_header_does_not_swallow_the_stream():
    ops = parse_all(b"\x1d\x76\x30\x00\xff\xff\xff\xff" + b"ok\n")
    assert ops[0].name == "invalid"
    assert [op.name for op in ops[1:]] == ["text", "lf"]


@settings(max_examples=300)
@given(st.binary(max_size=400), st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_any_bytes_parse_the_same_whole_or_in_pieces(data, cuts):
    whole = EscPosParser()
    expected = whole.feed(data)
    pieces = EscPosParser()
    got = []
    last = 0
    for cut in sorted(c for c in cuts if c <= len(data)) + [len(data)]:
        got += pieces.feed(data[last:cut])
        last = cut
    assert got == _merge_text(expected) or _merge_text(got) == _merge_text(expected)
    assert pieces.pending == whole.pending


def _merge_text(ops):
    """Text may arrive split across feeds; compare with adjacent text runs joined."""
    merged = []
    for op in ops:
        if (
            merged
            and op.name == "text"
            and merged[-1].name == "text"
            and op.args == merged[-1].args
        ):
            merged[-1] = Op("text", op.args, merged[-1].data + op.data)
        else:
            merged.append(op)
    return merged
