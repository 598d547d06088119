"""Framing QR scanner input: terminators, stray CR/LF, overlong frames (pure)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.devices.scanner.framing import TERMINATORS, Overlong, ScanFramer


@pytest.mark.parametrize(
    ("terminator", "stream", "codes"),
    [
        ("CR", b"ABC\rDEF\r", [b"ABC", b"DEF"]),
        ("LF", b"ABC\nDEF\n", [b"ABC", b"DEF"]),
        ("CRLF", b"ABC\r\nDEF\r\n", [b"ABC", b"DEF"]),
        ("CR", b"ABC\r\nDEF\r\n", [b"ABC", b"DEF"]),  # scanner set to CRLF, kiosk to CR
        ("LF", b"ABC\r\nDEF\r\n", [b"ABC", b"DEF"]),
        ("CR", b"\r\r\rABC\r", [b"ABC"]),  # empty frames skipped
        ("CRLF", b"A\rB\r\n", [b"A\rB"]),  # a lone CR inside a CRLF frame stays
        ("CR", b"ABC", []),  # no terminator yet
    ],
)
def test_terminators(terminator, stream, codes):
    assert ScanFramer(terminator).feed(stream) == codes


def test_overlong_frame_is_reported_once_and_the_next_code_survives():
    framer = ScanFramer("CR", max_length=8)
    assert framer.feed(b"0123456789" * 10) == []
    assert framer.pending <= 8
    assert framer.feed(b"xyz\rGOOD\r") == [Overlong(103), b"GOOD"]


def test_overlong_with_terminator_in_the_same_chunk():
    assert ScanFramer("LF", max_length=4).feed(b"123456\nOK\n") == [Overlong(6), b"OK"]


def test_bad_settings():
    with pytest.raises(ValueError, match="terminator"):
        ScanFramer("TAB")
    with pytest.raises(ValueError, match="max_length"):
        ScanFramer("CR", max_length=0)


code = st.binary(min_size=1, max_size=40).filter(
    lambda b: b.strip(b"\r\n") == b and b"\r" not in b and b"\n" not in b
)


@given(
    st.sampled_from(sorted(TERMINATORS)),
    st.lists(code, max_size=8),
    st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_codes_survive_any_chunking(terminator, codes, cuts):
    stream = b"".join(c + TERMINATORS[terminator] for c in codes)
    framer = ScanFramer(terminator, max_length=64)
    got = []
    last = 0
    for cut in sorted(c for c in cuts if c <= len(stream)) + [len(stream)]:
        got += framer.feed(stream[last:cut])
        last = cut
    assert got == codes
    assert framer.pending == 0


@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=64))
def test_memory_is_bounded_for_any_input(data, limit):
    framer = ScanFramer("CRLF", max_length=limit)
    for item in framer.feed(data):
        assert isinstance(item, Overlong) or len(item) <= limit
    assert framer.pending <= limit + 1
