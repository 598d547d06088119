"""Pure decoding (and, for the simulator, encoding) of the card data the SAM returns.

The 256-byte text block is UCS-2 little-endian, space padded; byte 248 tells the layout:
a space (or NUL) for the resident ID card, ``J`` for the HK/Macau/Taiwan residence permit,
``I`` for the foreigner permanent residence card; anything else is :class:`UnsupportedCard`.
Field offsets are in PROTOCOLS.md §1 and in the ``*_FIELDS`` tables below.
Errors: :class:`~kiosk.devices.idcard.errors.CardDataError` for malformed data; an ID number
that breaks the identity rules is *reported on the card* (``id_problem``), not raised.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from kiosk.devices.idcard.cards import LONG_TERM, SEX_NAMES, CardKind, IdCard, UnsupportedCard
from kiosk.devices.idcard.errors import CardDataError
from kiosk.domain.identity import InvalidIdNumber, validate_id_number
from kiosk.domain.nations import nation_name

TEXT_LENGTH = 256
PHOTO_LENGTH = 1024
APPENDED_ADDRESS_LENGTH = 70
MARKER_OFFSET = 248

# name → (offset, size in bytes)
RESIDENT_FIELDS = {
    "name": (0, 30),
    "sex": (30, 2),
    "nation": (32, 4),
    "birth": (36, 16),
    "address": (52, 70),
    "id_number": (122, 36),
    "authority": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
}
PERMIT_FIELDS = {  # 'J': as the resident card (nation reserved), plus:
    **{key: value for key, value in RESIDENT_FIELDS.items() if key != "nation"},
    "pass_number": (220, 18),
    "issue_count": (238, 4),
    "marker": (248, 2),
}
FOREIGNER_FIELDS = {  # 'I'
    "english_name": (0, 120),
    "sex": (120, 2),
    "card_number": (122, 30),
    "nationality": (152, 6),
    "name": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "birth": (220, 16),
    "card_version": (236, 4),
    "authority": (240, 8),
    "marker": (248, 2),
}


@dataclass(frozen=True)
class BaseInfo:
    """The split answer of read 30 01 / 30 10 (buffers, not yet decoded)."""

    text: bytes
    photo: bytearray
    fingerprint: bytearray


def split_base_info(data: bytes, *, with_fingerprint: bool) -> BaseInfo:
    """Split a successful 30 01 (or 30 10) answer into text, photo (and fingerprint).

    30 01: ``textLen(2) photoLen(2) text photo``; 30 10 adds ``fpLen(2)`` after photoLen and the
    fingerprint after the photo. Lengths are big-endian. Raises CardDataError on wrong sizes.
    """
    header = 6 if with_fingerprint else 4
    if len(data) < header:
        raise CardDataError(f"base info of {len(data)} bytes has no length header")
    text_length = int.from_bytes(data[0:2], "big")
    photo_length = int.from_bytes(data[2:4], "big")
    fp_length = int.from_bytes(data[4:6], "big") if with_fingerprint else 0
    if text_length != TEXT_LENGTH:
        raise CardDataError(f"text block of {text_length} bytes, expected {TEXT_LENGTH}")
    if len(data) != header + text_length + photo_length + fp_length:
        raise CardDataError(
            f"base info of {len(data)} bytes does not match its lengths "
            f"({text_length}+{photo_length}+{fp_length})"
        )
    text_end = header + text_length
    photo_end = text_end + photo_length
    return BaseInfo(
        text=bytes(data[header:text_end]),
        photo=bytearray(data[text_end:photo_end]),
        fingerprint=bytearray(data[photo_end:]),
    )


def decode_appended_addresses(data: bytes) -> tuple[str, ...]:
    """The appended addresses of a 30 03 answer (70 bytes UCS-2 each; empty ones dropped)."""
    if len(data) % 2:
        raise CardDataError(f"appended address of odd length {len(data)}")
    chunks = [data[i : i + APPENDED_ADDRESS_LENGTH] for i in range(0, len(data), 70)]
    return tuple(text for text in (_text(chunk) for chunk in chunks) if text)


def decode_card(
    text: bytes,
    *,
    photo: bytearray | None = None,
    fingerprint: bytearray | None = None,
    appended_addresses: tuple[str, ...] = (),
    today: date | None = None,
) -> IdCard | UnsupportedCard:
    """Decode a 256-byte text block into an :class:`IdCard` or :class:`UnsupportedCard`.

    *today* bounds plausible birth dates in the identity rules (default: the local date).
    Raises CardDataError if the block has the wrong size or a field does not decode.
    """
    if len(text) != TEXT_LENGTH:
        raise CardDataError(f"text block of {len(text)} bytes, expected {TEXT_LENGTH}")
    marker = text[MARKER_OFFSET]
    extras = {
        "photo": photo if photo is not None else bytearray(),
        "fingerprint": fingerprint if fingerprint is not None else bytearray(),
        "appended_addresses": appended_addresses,
    }
    if marker in (0x20, 0x00) and text[MARKER_OFFSET + 1] == 0:
        return _decode_resident(text, today, extras)
    if marker == ord("J") and text[MARKER_OFFSET + 1] == 0:
        return _decode_permit(text, today, extras)
    if marker == ord("I") and text[MARKER_OFFSET + 1] == 0:
        return _decode_foreigner(text, today, extras)
    return UnsupportedCard(marker=marker)


def _decode_resident(text: bytes, today: date | None, extras: dict) -> IdCard:
    fields = _fields(text, RESIDENT_FIELDS)
    nation_code = fields["nation"]
    nation = nation_name(nation_code)
    if not nation:
        raise CardDataError("nation code not in GB 3304")
    card = _common(fields, CardKind.RESIDENT, extras)
    return _with_id_check(
        IdCard(**card, nation=nation, nation_code=nation_code.zfill(2)),
        today=today,
        check_region=True,
    )


def _decode_permit(text: bytes, today: date | None, extras: dict) -> IdCard:
    fields = _fields(text, PERMIT_FIELDS)
    count = fields["issue_count"]
    card = _common(fields, CardKind.HK_MO_TW_PERMIT, extras)
    return _with_id_check(
        IdCard(
            **card,
            pass_number=fields["pass_number"],
            issue_count=int(count) if count.isdigit() else 0,
        ),
        today=today,
        check_region=False,  # 81/82/83 are not GB/T 2260 provinces
    )


def _decode_foreigner(text: bytes, today: date | None, extras: dict) -> IdCard:
    fields = _fields(text, FOREIGNER_FIELDS)
    valid_from, valid_to, long_term = _validity(fields)
    card = IdCard(
        kind=CardKind.FOREIGN_PERMANENT,
        name=fields["name"] or fields["english_name"],
        english_name=fields["english_name"],
        sex=_sex(fields["sex"]),
        birth_date=_date(fields["birth"], "birth date"),
        id_number=fields["card_number"],
        nationality=fields["nationality"],
        valid_from=valid_from,
        valid_to=valid_to,
        long_term=long_term,
        card_version=fields["card_version"],
        authority=fields["authority"],
        **extras,
    )
    if len(card.id_number) == 18:  # the 2023 number: MOD 11-2 like a resident number
        return _with_id_check(card, today=today, check_region=False)
    return card  # the 15-character 2017 number has no check character


def _common(fields: dict[str, str], kind: CardKind, extras: dict) -> dict:
    valid_from, valid_to, long_term = _validity(fields)
    return {
        "kind": kind,
        "name": fields["name"],
        "sex": _sex(fields["sex"]),
        "birth_date": _date(fields["birth"], "birth date"),
        "address": fields["address"],
        "id_number": fields["id_number"],
        "authority": fields["authority"],
        "valid_from": valid_from,
        "valid_to": valid_to,
        "long_term": long_term,
        **extras,
    }


def _with_id_check(card: IdCard, *, today: date | None, check_region: bool) -> IdCard:
    """Run the identity rules on the card's number and record the outcome on the card."""
    try:
        checked = validate_id_number(card.id_number, today=today, check_region=check_region)
    except InvalidIdNumber as exc:
        return dataclasses.replace(card, id_problem=exc.reason_code, id_problem_zh=exc.message_zh)
    if checked.birth_date != card.birth_date or (
        card.sex in ("男", "女") and checked.sex != card.sex
    ):
        return dataclasses.replace(
            card,
            id_checked=checked,
            id_problem="mismatch",
            id_problem_zh="证件号码与卡内出生日期或性别不一致，请到柜台办理",
        )
    return dataclasses.replace(card, id_checked=checked)


def _fields(text: bytes, layout: dict[str, tuple[int, int]]) -> dict[str, str]:
    return {name: _text(text[offset : offset + size]) for name, (offset, size) in layout.items()}


def _text(raw: bytes) -> str:
    try:
        value = raw.decode("utf-16-le")
    except UnicodeDecodeError:
        raise CardDataError("text field is not valid UCS-2") from None
    value = value.strip(" \x00\u3000")
    if any(not ch.isprintable() for ch in value):
        raise CardDataError("text field holds control characters")
    return value


def _sex(code: str) -> str:
    if code not in SEX_NAMES:
        raise CardDataError("sex code not in GB/T 2261")
    return SEX_NAMES[code]


def _date(text: str, what: str) -> date:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise CardDataError(f"{what} is not YYYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise CardDataError(f"{what} is not a calendar date") from None


def _validity(fields: dict[str, str]) -> tuple[date, date | None, bool]:
    valid_from = _date(fields["valid_from"], "valid-from date")
    if fields["valid_to"] == LONG_TERM:
        return valid_from, None, True
    valid_to = _date(fields["valid_to"], "valid-to date")
    if valid_to < valid_from:
        raise CardDataError("validity ends before it starts")
    return valid_from, valid_to, False


# -- encoding (the simulator writes cards with these) -------------------------------------------
def encode_text(value: str, size: int) -> bytes:
    """*value* as UCS-2 LE, space padded to *size* bytes. Raises ValueError if too long."""
    raw = value.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"{len(value)} characters do not fit in {size} bytes")
    return raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def encode_text_block(values: dict[str, str], layout: dict[str, tuple[int, int]]) -> bytes:
    """A 256-byte block with *values* at the *layout* offsets, spaces elsewhere."""
    block = bytearray(encode_text("", TEXT_LENGTH))
    for name, value in values.items():
        offset, size = layout[name]
        block[offset : offset + size] = encode_text(value, size)
    return bytes(block)


def encode_base_info(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> bytes:
    """The data part of a 30 01 answer (or 30 10 when *fingerprint* is not None)."""
    header = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
    if fingerprint is None:
        return header + text + photo
    return header + len(fingerprint).to_bytes(2, "big") + text + photo + fingerprint
