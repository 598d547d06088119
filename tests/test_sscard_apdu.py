"""APDU builders (byte-exact) and the response rules: 61xx, 6Cxx, status words, bad lengths."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.devices.sscard import apdu
from kiosk.devices.sscard.errors import (
    FileNotFound,
    MalformedResponse,
    RecordNotFound,
    SecurityNotSatisfied,
    SsCardError,
    StatusWordError,
)

SELECT_SSSE = bytes.fromhex("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")
SELECT_EF05 = bytes.fromhex("00A4020002EF05")
READ_CARD_NUMBER = bytes.fromhex("00B207000B")
GET_RESPONSE_21 = bytes.fromhex("00C0000015")


def test_builders_match_the_documented_bytes():
    assert apdu.select_by_name() == SELECT_SSSE
    assert apdu.select_file(0xEF05) == SELECT_EF05
    assert apdu.read_record_by_tag(0x07, 9) == READ_CARD_NUMBER
    assert apdu.get_response(0x15) == GET_RESPONSE_21


@pytest.mark.parametrize(
    ("builder", "args"),
    [
        (apdu.select_by_name, (b"",)),
        (apdu.select_by_name, (b"x" * 17,)),
        (apdu.select_file, (0x10000,)),
        (apdu.read_record_by_tag, (0, 4)),
        (apdu.read_record_by_tag, (1, 254)),
        (apdu.get_response, (256,)),
    ],
)
def test_builders_reject_impossible_arguments(builder, args):
    with pytest.raises(ValueError):
        builder(*args)


class ScriptedCard:
    """A transmit hook answering from a list, recording what it was sent."""

    def __init__(self, *answers: bytes) -> None:
        self.answers = list(answers)
        self.sent: list[bytes] = []

    def __call__(self, command: bytes) -> bytes:
        self.sent.append(command)
        return self.answers.pop(0)


def test_61xx_is_followed_by_get_response_chain():
    card = ScriptedCard(b"\x61\x04", b"abcd\x61\x02", b"ef\x90\x00")
    response = apdu.exchange(card, SELECT_SSSE)
    assert response.data == b"abcdef" and response.ok
    assert card.sent == [SELECT_SSSE, apdu.get_response(4), apdu.get_response(2)]


def test_6cxx_resends_the_command_with_the_right_le():
    card = ScriptedCard(b"\x6c\x0b", b"\x07\x09B14043107\x90\x00")
    response = apdu.exchange(card, bytes.fromhex("00B2070020"), expected_max=32)
    assert response.data == b"\x07\x09B14043107"
    assert card.sent[1] == READ_CARD_NUMBER


def test_with_le_appends_to_a_case_3_command():
    assert apdu.with_le(SELECT_EF05, 0x10) == SELECT_EF05 + b"\x10"
    assert apdu.with_le(b"\x00\xc0\x00\x00", 5) == b"\x00\xc0\x00\x00\x05"


@pytest.mark.parametrize(
    ("answers", "why"),
    [
        ((b"",), "no status word"),
        ((b"\x90",), "no status word"),
        ((b"\x6c\x05", b"\x6c\x06"), "different Le twice"),
        ((b"\x00" * 300 + b"\x90\x00",), "at most 256"),
        (tuple([b"\x61\x01"] + [b"x\x61\x01"] * 40), "endless"),
    ],
)
def test_malformed_answers_raise_malformed_response(answers, why):
    with pytest.raises(MalformedResponse, match=why):
        apdu.exchange(ScriptedCard(*answers), SELECT_SSSE)


def test_overlong_answer_for_a_record_is_rejected():
    with pytest.raises(MalformedResponse, match="at most 11"):
        apdu.exchange(
            ScriptedCard(b"\x07\x0aB140431070\x90\x00"), READ_CARD_NUMBER, expected_max=11
        )


@pytest.mark.parametrize(
    ("sw", "error"),
    [
        (0x6A82, FileNotFound),
        (0x6A83, RecordNotFound),
        (0x6982, SecurityNotSatisfied),
        (0x6985, SecurityNotSatisfied),
        (0x6D00, StatusWordError),
        (0x6F00, StatusWordError),
    ],
)
def test_status_words_map_to_typed_errors(sw, error):
    with pytest.raises(error) as caught:
        apdu.check(apdu.Response(b"", sw), "SELECT")
    assert caught.value.sw == sw
    assert caught.value.sw_hex == f"{sw:04X}"


def test_check_returns_data_on_9000():
    assert apdu.check(apdu.Response(b"ok", 0x9000), "x") == b"ok"


@settings(deadline=None)  # a shared machine: no per-example deadline
@given(st.lists(st.binary(max_size=270), min_size=1, max_size=40))
def test_any_answers_give_a_response_or_a_typed_error(answers):
    card = ScriptedCard(*answers, *([b"\x90\x00"] * 40))
    try:
        response = apdu.exchange(card, SELECT_SSSE)
        data = apdu.check(response, "fuzz")
    except SsCardError:
        return
    assert len(data) <= apdu.MAX_SHORT_RESPONSE
