"""Decoding the 256-byte text block: resident card, 'J' and 'I' permits, identity rules, privacy."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.devices.idcard import layout
from kiosk.devices.idcard.cards import CardKind, IdCard, UnsupportedCard
from kiosk.devices.idcard.demo_cards import demo_cards, resident_card
from kiosk.devices.idcard.errors import CardDataError
from kiosk.domain.identity import build_id_number
from kiosk.domain.nations import NATIONS, nation_name

TODAY = date(2026, 11, 29)
CARDS = demo_cards()


def _decode(name: str, **kwargs) -> IdCard | UnsupportedCard:
    card = CARDS[name]
    return layout.decode_card(card.text, photo=bytearray(card.photo), today=TODAY, **kwargs)


def test_resident_card_decodes_every_field() -> None:
    card = _decode("resident")
    assert isinstance(card, IdCard)
    assert card.kind is CardKind.RESIDENT
    assert (card.name, card.sex, card.nation, card.nation_code) == ("王建军", "男", "汉族", "01")
    assert card.birth_date == date(1968, 3, 15)
    assert card.address == "山西省沁源县沁河镇东关村12号"
    assert card.id_number == build_id_number("140431", date(1968, 3, 15), 137)
    assert card.authority == "沁源县公安局"
    assert (card.valid_from, card.valid_to, card.long_term) == (
        date(2015, 6, 1),
        date(2035, 6, 1),
        False,
    )
    assert card.id_problem == ""
    assert card.id_checked is not None and card.id_checked.region_name == "沁源县"
    assert not card.is_expired(TODAY)


def test_long_term_validity() -> None:
    card = _decode("long_term")
    assert card.long_term and card.valid_to is None
    assert not card.is_expired(date(2099, 1, 1))
    assert card.as_dict()["valid_to"] == "长期"


def test_appended_address_becomes_the_current_address() -> None:
    raw = CARDS["appended"].appended_address
    addresses = layout.decode_appended_addresses(raw)
    assert addresses == ("山西省沁源县王和镇王和村58号",)
    card = _decode("appended", appended_addresses=addresses)
    assert card.address == "山西省沁源县灵空山镇候壁村8号"
    assert card.current_address == "山西省沁源县王和镇王和村58号"
    assert card.nation == "回族"


def test_hk_macau_taiwan_permit_layout() -> None:
    card = _decode("hk_mo_tw")
    assert card.kind is CardKind.HK_MO_TW_PERMIT
    assert (card.name, card.sex, card.pass_number, card.issue_count) == (
        "陈嘉慧",
        "女",
        "H60123456",
        1,
    )
    assert card.id_number.startswith("810000")
    assert card.id_problem == "" and card.nation == ""


def test_foreigner_permanent_residence_card_layout() -> None:
    card = _decode("foreigner")
    assert card.kind is CardKind.FOREIGN_PERMANENT
    assert (card.english_name, card.name, card.nationality) == ("MILLER, ANNA", "米安娜", "DEU")
    assert card.birth_date == date(1982, 6, 30)
    assert card.id_number == "DEU140082063001"
    assert (card.card_version, card.authority) == ("01", "1400")
    assert card.as_dict()["id_valid"] is None  # the 15-character number has no check


def test_unknown_layout_is_a_typed_unsupported_result() -> None:
    result = _decode("unknown")
    assert isinstance(result, UnsupportedCard)
    assert result.marker == ord("Y")
    assert "柜台" in result.message_zh


def _resident_with(**changes) -> bytes:
    values = {
        "name": "王建军",
        "sex": "1",
        "nation": "01",
        "birth": "19680315",
        "address": "山西省沁源县沁河镇东关村12号",
        "id_number": build_id_number("140431", date(1968, 3, 15), 137),
        "authority": "沁源县公安局",
        "valid_from": "20150601",
        "valid_to": "20350601",
    }
    values.update(changes)
    return layout.encode_text_block(values, layout.RESIDENT_FIELDS)


def test_invalid_check_character_is_reported_on_the_card() -> None:
    good = build_id_number("140431", date(1968, 3, 15), 137)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    card = layout.decode_card(_resident_with(id_number=wrong), today=TODAY)
    assert card.id_problem == "checksum"
    assert "校验码" in card.id_problem_zh
    assert card.id_checked is None
    assert card.as_dict()["id_valid"] is False


def test_number_disagreeing_with_the_birth_date_is_reported() -> None:
    card = layout.decode_card(_resident_with(birth="19680316"), today=TODAY)
    assert card.id_problem == "mismatch"


@pytest.mark.parametrize("code", sorted(NATIONS))
def test_every_gb3304_nation_code_decodes(code: str) -> None:
    card = layout.decode_card(_resident_with(nation=code), today=TODAY)
    assert card.nation == NATIONS[code]
    assert card.nation_code == code


def test_nation_table_is_complete() -> None:
    assert len(NATIONS) == 58
    assert [f"{n:02d}" for n in range(1, 57)] + ["97", "98"] == sorted(NATIONS)
    assert (nation_name("01"), nation_name("46"), nation_name("56")) == ("汉族", "德昂族", "基诺族")
    assert nation_name("1") == "汉族" and nation_name("57") == ""


@pytest.mark.parametrize(
    "changes",
    [
        {"nation": "57"},
        {"sex": "5"},
        {"birth": "19681315"},
        {"birth": "abc"},
        {"valid_to": "20100101"},  # ends before it starts
        {"valid_from": "2015"},
    ],
)
def test_malformed_fields_raise_card_data_error(changes: dict) -> None:
    with pytest.raises(CardDataError):
        layout.decode_card(_resident_with(**changes), today=TODAY)


def test_wrong_sizes_raise_card_data_error() -> None:
    with pytest.raises(CardDataError):
        layout.decode_card(bytes(255))
    good = layout.encode_base_info(CARDS["resident"].text, CARDS["resident"].photo)
    assert layout.split_base_info(good, with_fingerprint=False).text == CARDS["resident"].text
    for bad in (good[:-1], good + b"\x00", good[:3], b"\x00\x10" + good[2:]):
        with pytest.raises(CardDataError):
            layout.split_base_info(bad, with_fingerprint=False)
    with pytest.raises(CardDataError):
        layout.decode_appended_addresses(b"\x00")
    with pytest.raises(CardDataError):
        layout.decode_card(_resident_with()[:0] + b"\x00\xd8" + _resident_with()[2:])


def test_fingerprint_split() -> None:
    card = CARDS["fingerprint"]
    data = layout.encode_base_info(card.text, card.photo, card.fingerprint)
    info = layout.split_base_info(data, with_fingerprint=True)
    assert bytes(info.fingerprint) == card.fingerprint and len(info.fingerprint) == 1024
    assert bytes(info.photo) == card.photo


def test_personal_data_stays_out_of_repr_and_masked_dict() -> None:
    card = _decode("resident")
    text = repr(card) + repr(dataclasses.replace(card)) + str(card.as_dict())
    assert "王建军" not in text and card.id_number not in text
    assert "东关村" not in text and "1968-03-15" not in text
    assert card.photo.hex()[:16] not in text
    unmasked = card.as_dict(masked=False)
    assert unmasked["name"] == "王建军" and unmasked["id_number"] == card.id_number
    assert "photo" not in unmasked and unmasked["has_photo"] is True


def test_wipe_overwrites_photo_and_fingerprint() -> None:
    card = layout.decode_card(
        CARDS["fingerprint"].text,
        photo=bytearray(b"\x11" * 1024),
        fingerprint=bytearray(b"\x22" * 1024),
        today=TODAY,
    )
    photo = card.photo
    card.wipe()
    assert photo == bytearray() and card.fingerprint == bytearray()


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=256, max_size=256))
def test_any_text_block_decodes_or_raises_card_data_error(block: bytes) -> None:
    try:
        result = layout.decode_card(block, today=TODAY)
    except CardDataError:
        return
    assert isinstance(result, IdCard | UnsupportedCard)


_cjk = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1)


@settings(max_examples=100, deadline=None)
@given(name=_cjk.filter(lambda s: len(s) <= 15), address=_cjk.filter(lambda s: len(s) <= 35))
def test_names_and_addresses_round_trip(name: str, address: str) -> None:
    card = resident_card(
        "x",
        name=name,
        sex="2",
        nation="01",
        birth=date(1990, 1, 2),
        address=address,
        id_number=build_id_number("140431", date(1990, 1, 2), 2),
        valid_from="20200101",
        valid_to="长期",
    )
    decoded = layout.decode_card(card.text, today=TODAY)
    assert (decoded.name, decoded.address, decoded.sex) == (name, address, "女")
