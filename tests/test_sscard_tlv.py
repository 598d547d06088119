"""BER-TLV parser of the social security card: valid structures, every malformation, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.devices.sscard import tlv
from kiosk.devices.sscard.errors import TlvError

FCI = bytes.fromhex("6F17840F7378312E73682EC9E7BBE1B1A3D5CFA5049F0C0101")


def test_parses_the_ssse_fci_with_nested_two_byte_tag():
    [fci] = tlv.parse(FCI)
    assert fci.tag == 0x6F and fci.constructed
    assert tlv.find([fci], 0x84).value == "sx1.sh.社会保障".encode("gbk")
    assert tlv.find([fci], 0x9F0C).value == b"\x01"


def test_parse_one_returns_the_value_of_the_expected_tag():
    assert tlv.parse_one(bytes.fromhex("0304322E3030"), 0x03) == b"2.00"


def test_padding_between_objects_is_skipped():
    data = b"\x00" + tlv.encode(0x01, b"a") + b"\xff\xff" + tlv.encode(0x02, b"bc") + b"\x00"
    assert [(o.tag, o.value) for o in tlv.parse(data)] == [(1, b"a"), (2, b"bc")]


def test_long_form_lengths():
    value = bytes(range(200))
    assert tlv.encode(0x53, value)[:3] == b"\x53\x81\xc8"
    assert tlv.parse(tlv.encode(0x53, value))[0].value == value
    assert tlv.parse(b"\x01\x82\x00\x02ab")[0].value == b"ab"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x01", "length missing"),
        (b"\x01\x05abc", "runs past the end"),
        (b"\x9f", "truncated"),
        (b"\x9f\x8f\x8f\x8f\x01\x00", "longer than"),
        (b"\x01\x80", "indefinite"),
        (b"\x01\x85\x00\x00\x00\x00\x01x", "not plausible"),
        (b"\x01\x82\x01", "truncated"),
    ],
)
def test_malformed_tlv_raises_tlv_error(data, why):
    with pytest.raises(TlvError, match=why):
        tlv.parse(data)


def test_parse_one_rejects_wrong_tag_and_extra_objects():
    with pytest.raises(TlvError, match="expected tag 03"):
        tlv.parse_one(b"\x04\x01a", 0x03)
    with pytest.raises(TlvError, match="found 2"):
        tlv.parse_one(b"\x03\x01a\x03\x01b", 0x03)


def test_children_of_a_primitive_object_is_an_error():
    with pytest.raises(TlvError):
        tlv.parse(b"\x01\x01a")[0].children()


def test_repr_hides_values():
    assert "secret" not in repr(tlv.parse(tlv.encode(0x09, b"secret"))[0])


primitive_tags = st.one_of(
    st.integers(0x01, 0x1E).filter(lambda t: not t & 0x20),
    st.integers(0x40, 0x5E).filter(lambda t: not t & 0x20),
    st.integers(0x01, 0x7F).map(lambda t: 0x9F00 | t),
)


@settings(deadline=None)  # a shared machine: no per-example deadline
@given(st.lists(st.tuples(primitive_tags, st.binary(max_size=300)), max_size=8))
def test_encode_then_parse_round_trips(objects):
    data = b"".join(tlv.encode(tag, value) for tag, value in objects)
    assert [(o.tag, o.value) for o in tlv.parse(data)] == objects


@settings(deadline=None)  # a shared machine: no per-example deadline
@given(st.binary(max_size=400))
def test_any_bytes_parse_or_raise_tlv_error(data):
    try:
        objects = tlv.parse(data)
    except TlvError:
        return
    # What parsed re-encodes to no more bytes than it came from (padding dropped).
    assert sum(len(tlv.encode(o.tag, o.value)) for o in objects) <= len(data)
    for obj in objects:
        if obj.constructed:
            try:
                found = tlv.find([obj], 0x9F0C)
            except TlvError:
                continue
            assert found is None or found.tag == 0x9F0C
