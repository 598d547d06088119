"""Fictional demo cards for the simulator: people of 沁源县 (division code 140431), valid numbers.

Every person here is invented; the numbers are built with the real check-character rule so the
identity rules accept them. Pure data builders, no I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from kiosk.devices.idcard import layout
from kiosk.domain.identity import build_id_number

QINYUAN = "140431"
AUTHORITY = "沁源县公安局"


@dataclass(frozen=True)
class SimCard:
    """A card the simulator can lay on its reader.

    ``text`` is the 256-byte block; ``appended_address`` the raw 30 03 answer (None → SW3 91);
    ``fingerprint`` empty when the card holds none. ``repr`` shows only the label.
    """

    label: str
    text: bytes = field(repr=False)
    photo: bytes = field(default=bytes(layout.PHOTO_LENGTH), repr=False)
    fingerprint: bytes = field(default=b"", repr=False)
    appended_address: bytes | None = field(default=None, repr=False)
    management_number: bytes = field(default=bytes(8), repr=False)


def resident_card(
    label: str,
    *,
    name: str,
    sex: str,
    nation: str,
    birth: date,
    address: str,
    id_number: str,
    valid_from: str,
    valid_to: str,
    authority: str = AUTHORITY,
    appended: tuple[str, ...] = (),
    with_fingerprint: bool = False,
) -> SimCard:
    """A resident ID card. *sex* "1"/"2", *nation* a GB 3304 code, dates YYYYMMDD or 长期."""
    text = layout.encode_text_block(
        {
            "name": name,
            "sex": sex,
            "nation": nation,
            "birth": f"{birth:%Y%m%d}",
            "address": address,
            "id_number": id_number,
            "authority": authority,
            "valid_from": valid_from,
            "valid_to": valid_to,
        },
        layout.RESIDENT_FIELDS,
    )
    return _card(label, text, appended, with_fingerprint)


def permit_card(
    label: str,
    *,
    name: str,
    sex: str,
    birth: date,
    address: str,
    id_number: str,
    pass_number: str,
    issue_count: int,
    valid_from: str,
    valid_to: str,
    authority: str = AUTHORITY,
) -> SimCard:
    """A HK/Macau/Taiwan residence permit ('J')."""
    text = layout.encode_text_block(
        {
            "name": name,
            "sex": sex,
            "birth": f"{birth:%Y%m%d}",
            "address": address,
            "id_number": id_number,
            "authority": authority,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "pass_number": pass_number,
            "issue_count": f"{issue_count:02d}",
            "marker": "J",
        },
        layout.PERMIT_FIELDS,
    )
    return _card(label, text, (), False)


def foreigner_card(
    label: str,
    *,
    english_name: str,
    name: str,
    sex: str,
    birth: date,
    card_number: str,
    nationality: str,
    valid_from: str,
    valid_to: str,
    authority_code: str = "1400",
    version: str = "01",
) -> SimCard:
    """A foreigner permanent residence card, 2017 layout ('I')."""
    text = layout.encode_text_block(
        {
            "english_name": english_name,
            "sex": sex,
            "card_number": card_number,
            "nationality": nationality,
            "name": name,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "birth": f"{birth:%Y%m%d}",
            "card_version": version,
            "authority": authority_code,
            "marker": "I",
        },
        layout.FOREIGNER_FIELDS,
    )
    return _card(label, text, (), False)


def unknown_layout_card(label: str = "unknown", marker: str = "Y") -> SimCard:
    """A card whose byte 248 names a layout the kiosk does not know (e.g. a future permit)."""
    text = layout.encode_text_block({"name": "测试", "marker": marker}, layout.PERMIT_FIELDS)
    return _card(label, text, (), False)


def _card(label: str, text: bytes, appended: tuple[str, ...], with_fingerprint: bool) -> SimCard:
    # Deterministic pseudo photo/fingerprint bytes so tests can compare them.
    seed = hashlib.sha256(label.encode()).digest()
    photo = (seed * (layout.PHOTO_LENGTH // len(seed) + 1))[: layout.PHOTO_LENGTH]
    appended_raw = (
        b"".join(layout.encode_text(a, layout.APPENDED_ADDRESS_LENGTH) for a in appended)
        if appended
        else None
    )
    return SimCard(
        label=label,
        text=text,
        photo=photo,
        fingerprint=bytes(reversed(photo)) if with_fingerprint else b"",
        appended_address=appended_raw,
        management_number=seed[:8],
    )


def demo_cards() -> dict[str, SimCard]:
    """The demo set: resident, 长期 validity, appended address, fingerprint, 'J', 'I', unknown."""
    return {
        "resident": resident_card(
            "resident",
            name="王建军",
            sex="1",
            nation="01",
            birth=date(1968, 3, 15),
            address="山西省沁源县沁河镇东关村12号",
            id_number=build_id_number(QINYUAN, date(1968, 3, 15), 137),
            valid_from="20150601",
            valid_to="20350601",
        ),
        "long_term": resident_card(
            "long_term",
            name="李秀兰",
            sex="2",
            nation="01",
            birth=date(1951, 10, 2),
            address="山西省沁源县郭道镇郭道村南街3号",
            id_number=build_id_number(QINYUAN, date(1951, 10, 2), 224),
            valid_from="20120520",
            valid_to="长期",
        ),
        "appended": resident_card(
            "appended",
            name="张晓燕",
            sex="2",
            nation="03",
            birth=date(1985, 7, 21),
            address="山西省沁源县灵空山镇候壁村8号",
            id_number=build_id_number(QINYUAN, date(1985, 7, 21), 46),
            valid_from="20190311",
            valid_to="20390311",
            appended=("山西省沁源县王和镇王和村58号",),
        ),
        "fingerprint": resident_card(
            "fingerprint",
            name="赵国栋",
            sex="1",
            nation="01",
            birth=date(1979, 12, 3),
            address="山西省沁源县交口乡交口村21号",
            id_number=build_id_number(QINYUAN, date(1979, 12, 3), 51),
            valid_from="20180415",
            valid_to="20380415",
            with_fingerprint=True,
        ),
        "hk_mo_tw": permit_card(
            "hk_mo_tw",
            name="陈嘉慧",
            sex="2",
            birth=date(1990, 4, 8),
            address="山西省沁源县沁河镇新城街9号",
            id_number=build_id_number("810000", date(1990, 4, 8), 32),
            pass_number="H60123456",
            issue_count=1,
            valid_from="20210901",
            valid_to="20310901",
        ),
        "foreigner": foreigner_card(
            "foreigner",
            english_name="MILLER, ANNA",
            name="米安娜",
            sex="2",
            birth=date(1982, 6, 30),
            card_number="DEU140082063001",
            nationality="DEU",
            valid_from="20200110",
            valid_to="20300110",
        ),
        "unknown": unknown_layout_card(),
    }
