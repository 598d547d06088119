"""Card data decoding, masking, the iReadCardBas string and the read sequence over a virtual card."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sscard_support import virtual_psam_authenticator

from kiosk.devices.sscard import apdu
from kiosk.devices.sscard.auth import (
    NoAuthentication,
    PsamAuthenticator,
    make_authenticator,
)
from kiosk.devices.sscard.card import (
    CardGeneration,
    atr_historical_bytes,
    bcd_date,
    decode_card,
    ireadcardbas,
    parse_generation,
)
from kiosk.devices.sscard.errors import (
    AuthenticatorNotConfigured,
    BadFieldValue,
    FileNotFound,
    MissingField,
    SecurityNotSatisfied,
    SsCardError,
    TlvError,
    UnsupportedCardVersion,
)
from kiosk.devices.sscard.reading import read_card
from kiosk.devices.sscard.virtual_card import CardPulled, VirtualCard, demo_profiles

TODAY = date(2026, 6, 1)
PROFILES = demo_profiles()
# The example of PROTOCOLS.md §2: ATR historical bytes are the 卡复位信息.
EXAMPLE_ATR = bytes.fromhex("3B6D000000814E43238697159900BF7C7A")


def read_virtual(key: str, authenticator=None):
    """Read demo card *key* (with the virtual PSAM unless another authenticator is given)."""
    authenticator = authenticator or virtual_psam_authenticator()
    card = VirtualCard(PROFILES[key])

    def transmit(command: bytes) -> bytes:
        response = card.process(command)
        assert response is not None, "the card stayed mute"
        return response

    return read_card(transmit, card.atr, authenticator, today=TODAY), card


@pytest.mark.parametrize(
    ("key", "version", "generation", "name"),
    [
        ("gen1", "1.00", CardGeneration.FIRST, "张秀兰"),
        ("gen2", "2.00", CardGeneration.SECOND, "王建国"),
        ("gen3", "3.00", CardGeneration.THIRD, "李欣怡"),
        ("long_name", "3.00", CardGeneration.THIRD, "阿卜杜热合曼·买买提艾力·吐尔逊"),
    ],
)
def test_reads_every_generation(key, version, generation, name):
    data, _ = read_virtual(key)
    assert (data.version, data.generation, data.name) == (version, generation, name)
    assert data.region_code == "140431"
    assert data.ssn == PROFILES[key].ssn
    assert data.birth_date == PROFILES[key].birth_date
    assert not data.is_expired(TODAY)


def test_second_generation_read_uses_61xx_and_tags_and_name_extension():
    data, card = read_virtual("gen2")
    assert card.received[0] == apdu.select_by_name()
    assert card.received[1] == apdu.get_response(len(card._fci()))  # the FCI waited for us
    assert apdu.select_file(0xEF05) in card.received
    assert apdu.read_record_by_tag(0x4E, 20) in card.received  # 2.0: extension asked, absent
    assert data.sex_label == "男" and data.nation_name == "汉族"
    assert data.issue_date == date(2021, 3, 18) and data.expiry_date == date(2031, 3, 18)


def test_first_generation_short_name_record_is_read_after_6cxx():
    data, card = read_virtual("gen1")
    assert bytes.fromhex("00B2090020") in card.received  # asked for 30 bytes
    assert bytes.fromhex("00B2090016") in card.received  # the card said 6C16: 20 bytes
    assert apdu.read_record_by_tag(0x4E, 20) not in card.received  # 1.0 cards have none
    assert data.name == "张秀兰" and data.sex_label == "女"


def test_card_that_wants_p1_00_for_select_ef_is_read_after_6a86():
    data, card = read_virtual("select_p1_00")
    assert apdu.select_file(0xEF05) in card.received  # P1=02 first, as specified
    assert apdu.select_file(0xEF05, p1=0x00) in card.received
    assert data.name == "刘美兰"


def test_expired_card_reads_and_says_so():
    data, _ = read_virtual("expired")
    assert data.is_expired(TODAY)
    assert data.expiry_date == date(2023, 5, 1)


def test_wrong_application_is_file_not_found_after_retry_under_mf():
    with pytest.raises(FileNotFound) as caught:
        read_virtual("wrong_application")
    assert caught.value.sw == 0x6A82


def test_garbage_card_gives_tlv_error():
    with pytest.raises(TlvError):
        read_virtual("garbage")


def test_pulled_card_stops_the_script():
    with pytest.raises(CardPulled):
        read_virtual("pulled_mid_read")


def test_mute_card_answers_nothing():
    assert VirtualCard(PROFILES["mute"]).process(apdu.select_by_name()) is None


def test_psam_authenticator_without_a_psam_reader_says_not_configured():
    with pytest.raises(AuthenticatorNotConfigured, match="psam_reader is empty"):
        read_virtual("gen3", PsamAuthenticator(None, ""))
    with pytest.raises(AuthenticatorNotConfigured, match="psam_reader is empty"):
        read_virtual("gen2", make_authenticator("psam", ""))
    assert isinstance(make_authenticator("none"), NoAuthentication)
    with pytest.raises(ValueError):
        make_authenticator("magic")


def test_without_authentication_a_third_generation_card_keeps_its_holder_data():
    """GIVEN a 3.0 card and no PSAM THEN EF05's dates and EF06 stay behind 6982, as on real
    3.0 cards (RKSSSE external authentication first); 2.0 cards read, marked unauthenticated."""
    with pytest.raises(SecurityNotSatisfied) as caught:
        read_virtual("gen3", NoAuthentication())
    assert caught.value.sw == 0x6982 and "READ RECORD 05" in str(caught.value)
    data, _ = read_virtual("gen2", NoAuthentication())
    assert data.authentication.method == "none" and data.authentication.evidence == ""


def test_ireadcardbas_string_has_the_eleven_fields_in_order():
    data, _ = read_virtual("gen2")
    text = ireadcardbas(data, terminal_number="", device_number="demo-kiosk-0001")
    profile = PROFILES["gen2"]
    assert text == (
        f"140431|{profile.ssn}|B14043107|140431D156000005000000004A7C3B21|王建国|"
        f"00814E4323869715044A7C3B21|2.00|20210318|20310318||demo-kiosk-0001|"
    )
    assert text.count("|") == 11 and text.endswith("|")


def test_atr_historical_bytes_of_the_documented_example():
    assert atr_historical_bytes(EXAMPLE_ATR).hex().upper() == "00814E43238697159900BF7C7A"
    # TD1 chains to TD2: historical bytes start after all interface bytes.
    assert atr_historical_bytes(bytes.fromhex("3B82 8001 4142 C3")) == b"AB"
    assert atr_historical_bytes(b"\x3b") == b"\x3b"  # unparseable: the whole ATR
    assert atr_historical_bytes(bytes.fromhex("3B6F00")) == bytes.fromhex("3B6F00")


def test_repr_and_masked_dict_carry_no_personal_data():
    data, _ = read_virtual("gen2")
    profile = PROFILES["gen2"]
    text = repr(data)
    for secret in (profile.ssn, profile.name, profile.card_number, "1972"):
        assert secret not in text
    masked = data.to_dict()
    assert masked["ssn"] == profile.ssn[:4] + "*" * 10 + profile.ssn[-4:]
    assert masked["name"] == "王*国"
    assert masked["card_number"] == "B*****107"
    assert masked["birth_date"] == "****-**-**"
    full = data.to_dict(masked=False)
    assert full["ssn"] == profile.ssn and full["birth_date"] == "1972-05-20"


def _raw_fields(key: str = "gen2") -> tuple[dict[int, bytes], dict[int, bytes]]:
    card = VirtualCard(PROFILES[key])
    return dict(card._records[0xEF05]), dict(card._records[0xEF06])


@pytest.mark.parametrize(
    ("ef", "tag", "value", "error"),
    [
        (5, 0x03, b"9.00", UnsupportedCardVersion),
        (5, 0x03, b"abcd", UnsupportedCardVersion),
        (5, 0x05, bytes.fromhex("20211332"), BadFieldValue),
        (5, 0x06, bytes.fromhex("2031AB18"), BadFieldValue),
        (5, 0x06, bytes.fromhex("203103"), BadFieldValue),
        (5, 0x01, b"\x14\x04", BadFieldValue),
        (5, 0x07, b"B1404\x01\x02", BadFieldValue),
        (6, 0x08, b"140431197205203150", BadFieldValue),  # wrong check character
        (6, 0x09, b"\xff\xfe\x81", BadFieldValue),
        (6, 0x09, b"\x00" * 30, BadFieldValue),
        (6, 0x0A, b"7", BadFieldValue),
        (6, 0x0B, b"\xaa", BadFieldValue),
    ],
)
def test_bad_field_values_raise_typed_errors(ef, tag, value, error):
    ef05, ef06 = _raw_fields()
    (ef05 if ef == 5 else ef06)[tag] = value
    with pytest.raises(error):
        decode_card(ef05, ef06, b"\x3b\x00", today=TODAY)


def test_missing_field_is_named():
    ef05, ef06 = _raw_fields()
    del ef06[0x0D]
    with pytest.raises(MissingField, match="EF06 tag 0D"):
        decode_card(ef05, ef06, b"", today=TODAY)


def test_binary_sex_code_and_generation_parser():
    ef05, ef06 = _raw_fields()
    ef06[0x0A] = b"\x02"
    assert decode_card(ef05, ef06, b"", today=TODAY).sex_label == "女"
    assert parse_generation(b"3.00") == ("3.00", CardGeneration.THIRD)
    assert bcd_date(bytes.fromhex("20240229"), "x") == date(2024, 2, 29)


@settings(max_examples=200, deadline=None)  # a shared machine: no per-example deadline
@given(
    st.sampled_from(
        [(5, t) for t in (1, 2, 3, 4, 5, 6, 7)] + [(6, t) for t in (8, 9, 10, 11, 12, 13, 0x4E)]
    ),
    st.binary(max_size=40),
)
def test_any_field_bytes_decode_or_raise_a_typed_error(where, value):
    ef05, ef06 = _raw_fields()
    (ef05 if where[0] == 5 else ef06)[where[1]] = value
    try:
        data = decode_card(ef05, ef06, b"", today=TODAY)
    except SsCardError:
        return
    assert data.region_code.isdigit() and len(data.ssn) == 18


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=30))
def test_a_card_answering_garbage_raises_only_typed_errors(answers):
    queue = list(answers)

    def transmit(command: bytes) -> bytes:
        return queue.pop(0) if queue else b"\x6f\x00"

    with pytest.raises(SsCardError):
        read_card(transmit, b"", today=TODAY)
