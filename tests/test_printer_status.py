"""Parsing the printer's status replies; no reply is unknown, never OK."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.devices.printer.status import (
    UNKNOWN,
    PrinterStatus,
    StatusReplyError,
    combine,
    encode_replies,
    is_paper_status_reply,
    is_realtime_reply,
    parse_offline_cause,
    parse_paper_sensor,
    parse_printer_status,
)


@pytest.mark.parametrize(
    ("printer", "cause", "paper", "expected", "problem"),
    [
        (0x12, 0x12, 0x12, PrinterStatus(True, False, False, False, False), ""),
        (0x12, 0x12, 0x1E, PrinterStatus(True, False, False, True, False), ""),  # near end
        (0x1A, 0x16, 0x12, PrinterStatus(False, True, False, False, False), "cover_open"),
        (0x1A, 0x32, 0x7E, PrinterStatus(False, False, True, True, False), "paper_end"),
        (0x1A, 0x52, 0x12, PrinterStatus(False, False, False, False, True), "error"),
        (0x1A, 0x12, 0x12, PrinterStatus(False, False, False, False, False), "offline"),
        # the sensor reply was lost but DLE EOT 2 says "stopped by paper end"
        (0x1A, 0x32, None, PrinterStatus(False, False, True, None, False), "no_reply"),
    ],
)
def test_combine_replies(printer, cause, paper, expected, problem):
    status = combine(printer, cause, paper)
    assert status == expected
    assert status.problem == problem
    assert status.ready is (problem == "")


def test_no_reply_is_unknown_never_ok():
    status = combine(None, None, None)
    assert status == UNKNOWN
    assert not status.ready
    assert status.problem == "no_reply"
    assert status.as_dict() == {
        "online": None,
        "cover_open": None,
        "paper_end": None,
        "paper_near_end": None,
    }


@pytest.mark.parametrize("byte", [0x00, 0xFF, 0x10, 0x02, 0x92, 0x13])
def test_bytes_without_fixed_bits_are_rejected(byte):
    with pytest.raises(StatusReplyError):
        parse_printer_status(byte)
    with pytest.raises(StatusReplyError):
        parse_offline_cause(byte)
    with pytest.raises(StatusReplyError):
        parse_paper_sensor(byte)


@given(st.integers(min_value=0, max_value=255))
def test_any_byte_parses_or_raises_the_typed_error(byte):
    try:
        online = parse_printer_status(byte)
    except StatusReplyError:
        assert not is_realtime_reply(byte)
    else:
        assert isinstance(online, bool)
        assert not is_paper_status_reply(byte)  # the two reply kinds never collide


@given(st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_simulator_encoding_round_trips(online, cover, end, near, error):
    status = PrinterStatus(online, cover, end, near or end, error)
    printer, cause, paper, gs_r = encode_replies(status)
    back = combine(printer, cause, paper)
    assert back.cover_open == cover and back.paper_end == end and back.error == error
    assert back.online == (online and not (cover or end or error))
    assert is_paper_status_reply(gs_r)
