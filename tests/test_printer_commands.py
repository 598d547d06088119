"""ESC/POS command bytes, byte-exact against PROTOCOLS.md §4."""

import pytest

from kiosk.devices.printer import commands


def test_constants_are_the_documented_bytes():
    assert bytes.fromhex("1b40") == commands.INIT
    assert bytes.fromhex("1b6100") == commands.ALIGN_LEFT
    assert bytes.fromhex("1b6101") == commands.ALIGN_CENTER
    assert bytes.fromhex("1b6102") == commands.ALIGN_RIGHT
    assert bytes.fromhex("1b4501") == commands.BOLD_ON
    assert bytes.fromhex("1b4500") == commands.BOLD_OFF
    assert bytes.fromhex("1c26") == commands.CHINESE_ON
    assert bytes.fromhex("1c2e") == commands.CHINESE_OFF
    assert bytes.fromhex("1d5600") == commands.CUT_FULL
    assert bytes.fromhex("1d5601") == commands.CUT_PARTIAL
    assert bytes.fromhex("100401") == commands.STATUS_PRINTER
    assert bytes.fromhex("100402") == commands.STATUS_OFFLINE_CAUSE
    assert bytes.fromhex("100403") == commands.STATUS_ERROR_CAUSE
    assert bytes.fromhex("100404") == commands.STATUS_PAPER_SENSOR
    assert bytes.fromhex("1d7201") == commands.TRANSMIT_PAPER_STATUS
    assert bytes.fromhex("1d286b0300315130") == commands.QR_PRINT


def test_qr_builders():
    assert commands.qr_model(2) == bytes.fromhex("1d286b040031413200")
    assert commands.qr_model(1) == bytes.fromhex("1d286b040031413100")
    assert commands.qr_module_size(6) == bytes.fromhex("1d286b0300314306")
    assert commands.qr_error_level("L") == bytes.fromhex("1d286b0300314530")
    assert commands.qr_error_level("H") == bytes.fromhex("1d286b0300314533")
    # pL + 256·pH = len(data) + 3
    assert commands.qr_store(b"ABC") == bytes.fromhex("1d286b0600315030") + b"ABC"
    long = b"x" * 300
    assert commands.qr_store(long)[:8] == bytes(
        (0x1D, 0x28, 0x6B, 303 & 0xFF, 303 >> 8, 0x31, 0x50, 0x30)
    )


def test_size_cut_feed_raster():
    assert commands.char_size(1, 1) == bytes.fromhex("1d2100")
    assert commands.char_size(2, 2) == bytes.fromhex("1d2111")
    assert commands.char_size(3, 1) == bytes.fromhex("1d2120")
    assert commands.cut(partial=False, feed_dots=96) == bytes((0x1D, 0x56, 65, 96))
    assert commands.cut(partial=True, feed_dots=0) == bytes((0x1D, 0x56, 66, 0))
    assert commands.feed_lines(3) == bytes.fromhex("1b6403")
    assert commands.raster(2, 1, b"\xff\x00") == bytes.fromhex("1d76300002000100") + b"\xff\x00"


@pytest.mark.parametrize(
    "call",
    [
        lambda: commands.char_size(0, 1),
        lambda: commands.char_size(1, 9),
        lambda: commands.qr_module_size(0),
        lambda: commands.qr_module_size(17),
        lambda: commands.qr_error_level("X"),
        lambda: commands.qr_store(b""),
        lambda: commands.qr_store(b"x" * 7090),
        lambda: commands.qr_model(3),
        lambda: commands.feed_lines(256),
        lambda: commands.cut(feed_dots=300),
        lambda: commands.raster(2, 2, b"\x00"),
        lambda: commands.align("middle"),
    ],
)
def test_bad_arguments_raise_command_error(call):
    with pytest.raises(commands.CommandError):
        call()
