"""The read sequence of a social security card over one ``transmit`` hook; no other I/O.

SELECT SSSE (retrying under the MF when the application is not found from the current DF),
SELECT EF05 and read the 卡识别码 (tag 01) and 规范版本 (tag 03) — the generation comes from tag
03 —, authenticate (the authenticator gets the FCI, the 卡识别码 and the generation), SELECT EF05
again and read its other fields by tag, SELECT EF06 and read the holder's fields (姓名扩展 on
2.0/3.0 cards only, absent is fine). No personal data is read before the card is authenticated.
Raises the typed errors of :mod:`kiosk.devices.sscard.errors`; errors from *transmit* (removed,
mute) propagate unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import date

from kiosk.devices.sscard import apdu, tlv
from kiosk.devices.sscard.auth import AuthContext, Authenticator, NoAuthentication
from kiosk.devices.sscard.card import (
    CARD_ID_LENGTH,
    EF05_FIELDS,
    EF06_FIELDS,
    NAME_EXTENSION_LENGTH,
    NOT_AUTHENTICATED,
    TAG_CARD_ID,
    TAG_NAME_EXTENSION,
    TAG_VERSION,
    VERSION_LENGTH,
    CardGeneration,
    SsCardData,
    decode_card,
    parse_generation,
)
from kiosk.devices.sscard.errors import FileNotFound, RecordNotFound, StatusWordError, TlvError

SELECT_MF = bytes.fromhex("00A40000023F00")
_WRONG_P1P2 = (0x6A86, 0x6B00)  # "incorrect P1-P2" / "wrong parameters"


def read_card(
    transmit: apdu.Transmit,
    atr: bytes,
    authenticator: Authenticator | None = None,
    *,
    today: date | None = None,
) -> SsCardData:
    """Read and decode the card behind *transmit* (ATR *atr*); see the module docstring."""
    authenticator = authenticator or NoAuthentication()
    fci = select_ssse(transmit)
    select_ef(transmit, apdu.EF05)
    card_id = read_field(transmit, TAG_CARD_ID, CARD_ID_LENGTH)
    version = read_field(transmit, TAG_VERSION, VERSION_LENGTH)
    _, generation = parse_generation(version)
    context = AuthContext(transmit=transmit, fci=fci, card_id=card_id, generation=generation)
    authentication = authenticator.authenticate(context)
    if authentication is not NOT_AUTHENTICATED:
        select_ef(transmit, apdu.EF05)  # as terminals do: the current EF after AUTHENTICATE
    ef05 = {TAG_CARD_ID: card_id, TAG_VERSION: version}
    for tag, length in EF05_FIELDS:
        if tag not in ef05:
            ef05[tag] = read_field(transmit, tag, length)
    ef06 = _read_ef(transmit, apdu.EF06, EF06_FIELDS)
    if generation >= CardGeneration.SECOND:
        # Short names: many 2.0/3.0 cards leave the extension record out.
        with contextlib.suppress(RecordNotFound):
            ef06[TAG_NAME_EXTENSION] = read_field(
                transmit, TAG_NAME_EXTENSION, NAME_EXTENSION_LENGTH
            )
    card = decode_card(ef05, ef06, atr, today=today)
    return dataclasses.replace(card, authentication=authentication)


def select_ssse(transmit: apdu.Transmit) -> bytes:
    """SELECT the SSSE application by name; returns its FCI (may be empty)."""
    command = apdu.select_by_name(apdu.SSSE_AID)
    try:
        return apdu.check(apdu.exchange(transmit, command), "SELECT SSSE")
    except FileNotFound:
        # The application may sit under the MF (or a DDF below it): restart from the MF.
        apdu.check(apdu.exchange(transmit, SELECT_MF), "SELECT MF")
        return apdu.check(apdu.exchange(transmit, command), "SELECT SSSE under MF")


def read_field(transmit: apdu.Transmit, tag: int, length: int) -> bytes:
    """READ RECORD by *tag* in the current EF; returns the value (tag and length checked)."""
    response = apdu.exchange(
        transmit, apdu.read_record_by_tag(tag, length), expected_max=length + 2
    )
    data = apdu.check(response, f"READ RECORD {tag:02X}")
    try:
        return tlv.parse_one(data, tag)
    except TlvError as exc:
        raise TlvError(f"record {tag:02X}: {exc}") from None


def select_ef(transmit: apdu.Transmit, fid: int) -> None:
    """SELECT EF *fid* with P1=02, falling back to P1=00 for cards that reject the former."""
    try:
        apdu.check(apdu.exchange(transmit, apdu.select_file(fid)), f"SELECT {fid:04X}")
    except StatusWordError as exc:
        if exc.sw not in _WRONG_P1P2:
            raise
        command = apdu.select_file(fid, p1=0x00)
        apdu.check(apdu.exchange(transmit, command), f"SELECT {fid:04X} (P1=00)")


def _read_ef(
    transmit: apdu.Transmit, fid: int, fields: tuple[tuple[int, int], ...]
) -> dict[int, bytes]:
    select_ef(transmit, fid)
    return {tag: read_field(transmit, tag, length) for tag, length in fields}
