"""What a read ID card is: :class:`IdCard` (resident card and the two permits) or
:class:`UnsupportedCard`.

Every field but ``kind`` is personal data. ``repr`` shows only masked values, so a card in a log
line or a traceback leaks nothing. The photo (proprietary WLT data) and fingerprint are kept in
``bytearray`` buffers that :meth:`IdCard.wipe` overwrites when the session ends; they are never
written anywhere. (Python ``str`` fields cannot be overwritten; dropping the last reference is
all a caller can do for them.)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date

from kiosk.domain.identity import IdNumber, mask_id_number, mask_name


class CardKind(enum.StrEnum):
    RESIDENT = "resident"  # 居民身份证
    HK_MO_TW_PERMIT = "hk_mo_tw_permit"  # 港澳台居民居住证, byte 248 = 'J'
    FOREIGN_PERMANENT = "foreign_permanent"  # 外国人永久居留身份证 (2017 layout), 'I'


KIND_NAMES_ZH = {
    CardKind.RESIDENT: "居民身份证",
    CardKind.HK_MO_TW_PERMIT: "港澳台居民居住证",
    CardKind.FOREIGN_PERMANENT: "外国人永久居留身份证",
}

SEX_NAMES = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}
LONG_TERM = "长期"


@dataclass(frozen=True, repr=False, eq=False)
class IdCard:
    """A decoded card. Dates are ``datetime.date``; ``valid_to`` is None when ``long_term``.

    ``id_number`` is the number exactly as stored on the card. ``id_checked`` is the
    :class:`~kiosk.domain.identity.IdNumber` when the identity rules accepted it, and
    ``id_problem`` the rule's reason code (e.g. ``"checksum"``) with ``id_problem_zh`` when they
    did not, or when the number disagrees with the card's birth date / sex (``"mismatch"``).
    A card with an ``id_problem`` must not be trusted as an identity.
    """

    kind: CardKind
    name: str
    sex: str  # 男 / 女 / 未知 / 未说明
    birth_date: date
    id_number: str
    valid_from: date
    valid_to: date | None
    long_term: bool = False
    nation: str = ""  # GB 3304 name, resident cards only
    nation_code: str = ""
    address: str = ""
    authority: str = ""  # issuing authority; for 'I' cards the authority code
    appended_addresses: tuple[str, ...] = ()
    # 'J' permits
    pass_number: str = ""
    issue_count: int = 0
    # 'I' cards
    english_name: str = ""
    nationality: str = ""  # GB/T 2659 alpha-3
    card_version: str = ""
    # identity rules
    id_checked: IdNumber | None = None
    id_problem: str = ""
    id_problem_zh: str = ""
    photo: bytearray = field(default_factory=bytearray)
    fingerprint: bytearray = field(default_factory=bytearray)

    @property
    def current_address(self) -> str:
        """The newest address: the last appended address if any, else the printed one."""
        return self.appended_addresses[-1] if self.appended_addresses else self.address

    def is_expired(self, on: date) -> bool:
        """True if the card's validity ended before *on* (a long-term card never expires)."""
        return self.valid_to is not None and self.valid_to < on

    def wipe(self) -> None:
        """Overwrite the photo and fingerprint buffers in place (end of session)."""
        for buffer in (self.photo, self.fingerprint):
            buffer[:] = bytes(len(buffer))
            buffer.clear()

    def as_dict(self, *, masked: bool = True) -> dict[str, object]:
        """Plain JSON-ready data for diagnostics and the UI; never includes photo/fingerprint.

        With ``masked`` (the default) the name, ID number, birth date and address are masked.
        """
        valid_to = LONG_TERM if self.long_term or self.valid_to is None else self.valid_to
        address = self.current_address
        data: dict[str, object] = {
            "type": self.kind.value,
            "type_zh": KIND_NAMES_ZH[self.kind],
            "name": mask_name(self.name) if masked else self.name,
            "sex": self.sex,
            "nation": self.nation,
            "birth_date": f"{self.birth_date:%Y}-**-**" if masked else self.birth_date.isoformat(),
            "address": mask_address(address) if masked else address,
            "id_number": mask_id_number(self.id_number) if masked else self.id_number,
            # None: this card's number has no check character (2017 foreigner card)
            "id_valid": False if self.id_problem else (True if self.id_checked else None),
            "id_problem": self.id_problem,
            "authority": self.authority,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": valid_to if isinstance(valid_to, str) else valid_to.isoformat(),
            "appended_addresses": len(self.appended_addresses),
            "has_photo": bool(self.photo),
            "has_fingerprint": bool(self.fingerprint),
        }
        if self.kind is CardKind.HK_MO_TW_PERMIT:
            data["pass_number"] = mask_id_number(self.pass_number) if masked else self.pass_number
            data["issue_count"] = self.issue_count
        if self.kind is CardKind.FOREIGN_PERMANENT:
            data["english_name"] = mask_name(self.english_name) if masked else self.english_name
            data["nationality"] = self.nationality
            data["card_version"] = self.card_version
        return data

    def __repr__(self) -> str:
        return (
            f"IdCard(kind={self.kind.value}, name={mask_name(self.name)!r}, "
            f"id_number={mask_id_number(self.id_number)!r}, id_problem={self.id_problem!r}, "
            f"photo={len(self.photo)} bytes, fingerprint={len(self.fingerprint)} bytes)"
        )


@dataclass(frozen=True)
class UnsupportedCard:
    """The reader read a card whose text layout the kiosk does not know.

    ``marker`` is byte 248 of the text block (the layout letter; e.g. a newer permit).
    Carries no personal data.
    """

    marker: int
    message_zh: str = "本机暂不支持此类证件，请到柜台办理"

    def wipe(self) -> None:
        """Nothing to wipe (the text block was not kept)."""


def mask_address(address: str) -> str:
    """Keep the first 6 characters (province/county level), hide the rest: ``山西省长治市****``."""
    text = address.strip()
    if len(text) <= 6:
        return "*" * len(text)
    return text[:6] + "*" * min(8, len(text) - 6)
