"""Who is at the kiosk: the identified resident (and an optional 代办 agent) as one value.

A :class:`Person` comes from exactly one source — the social security card, the resident ID
card, or the backend's answer to an e-SSC QR code (the QR string itself is never parsed here; it
goes to the backend unchanged). The adapters below take the device's decoded card object by
its attributes (duck typing keeps this module free of device imports) and validate the ID
number with :func:`kiosk.domain.identity.validate_id_number`; bad data raises
:class:`IdentityError` with a Chinese message and no personal value in it.

``repr``/``str`` of a Person are masked: it can appear in a log or a traceback without leaking.
:meth:`Person.prefill` gives the values a form may pre-fill (``name``, ``sex``, ``birth_date``,
``address``, ``nation``, ``phone`` once the resident typed it in this session). Pure; immutable.

``Person.proof`` (:class:`IdentityProof`) says how the platform may know this identification:
the evidence kind (:class:`Evidence`), when the kiosk observed it and — once the platform
accepted it — the identity token it issued, the session it belongs to and which ID numbers
that token covers. The token and the session reference are hidden from ``repr``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kiosk.domain.identity import (
    FEMALE,
    MALE,
    InvalidIdNumber,
    mask_id_number,
    mask_name,
    validate_id_number,
)

_SEX_CODES = {"1": MALE, "2": FEMALE, "男": MALE, "女": FEMALE, "male": MALE, "female": FEMALE}


class IdentitySource(enum.StrEnum):
    """Where an identity came from (logged and shown; no personal data)."""

    SSCARD = "sscard"
    IDCARD = "idcard"
    ESSC = "essc"

    @property
    def label(self) -> str:
        return {"sscard": "社会保障卡", "idcard": "居民身份证", "essc": "电子社保卡"}[self.value]


class Evidence(enum.StrEnum):
    """How a person was identified, as the platform records it (the contract's evidence kinds)."""

    ESSC = "essc"  # an e-SSC code the platform verified
    SSCARD_PSAM = "sscard_psam"  # a social security card that passed PSAM authentication
    IDCARD_SAM = "idcard_sam"  # a resident ID card read through the reader's SAM
    SSCARD_UNAUTHENTICATED = "sscard_unauthenticated"  # read without card authentication

    @property
    def is_card(self) -> bool:
        """True for the card kinds: the kiosk's own claim, which it may present again."""
        return self is not Evidence.ESSC


@dataclass(frozen=True)
class IdentityProof:
    """Evidence of one identification and the identity token the platform gave for it.

    ``observed_at`` is aware (UTC). ``token`` is "" until the platform accepted the evidence
    (a card read offline); ``covers`` are the ID numbers that token opens (the person, and
    the other member of a 代办 session it joined).
    """

    evidence: Evidence
    observed_at: dt.datetime
    token: str = field(default="", repr=False)
    session_ref: str = field(default="", repr=False)
    covers: frozenset[str] = field(default=frozenset(), repr=False)

    def granted(self, token: str, session_ref: str, covers: frozenset[str]) -> IdentityProof:
        """This evidence with the platform's token for it."""
        return replace(self, token=token, session_ref=session_ref, covers=covers)


class IdentityError(ValueError):
    """The identity data is unusable; ``message`` is Chinese for the screen (no values)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Person:
    """A resident (or agent) identity. Every personal field is hidden from ``repr``."""

    source: IdentitySource
    id_number: str = field(repr=False)
    name: str = field(repr=False)
    sex: str = field(repr=False)  # 男 / 女 / "" unknown
    birth_date: dt.date = field(repr=False)
    nation: str = field(default="", repr=False)
    address: str = field(default="", repr=False)
    phone: str = field(default="", repr=False)  # typed by the resident during this session
    proof: IdentityProof | None = field(default=None, repr=False, compare=False)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked(self) -> str:
        """``李*英  1404**********1234`` for screens and receipts."""
        return f"{self.masked_name}  {self.masked_id_number}".strip()

    def age_on(self, day: dt.date) -> int:
        """Full years of age on *day* (0 before the first birthday)."""
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return max(0, years)

    def prefill(self, key: str) -> str | None:
        """The value a form may pre-fill for *key* (None when this source does not know it)."""
        value = {
            "id_number": self.id_number,
            "name": self.name,
            "sex": self.sex,
            "birth_date": self.birth_date.isoformat(),
            "nation": self.nation,
            "address": self.address,
            "phone": self.phone,
        }.get(key)
        return value or None

    def with_phone(self, phone: str) -> Person:
        """A copy that remembers the phone number typed in this session (not asked again)."""
        return replace(self, phone=phone)

    def with_proof(self, proof: IdentityProof) -> Person:
        """A copy carrying *proof* (the evidence of this identification, and its token)."""
        return replace(self, proof=proof)

    def same_person(self, other: Person | None) -> bool:
        return other is not None and other.id_number == self.id_number

    def __repr__(self) -> str:
        return (
            f"Person(source={self.source.value!r}, name={self.masked_name!r}, "
            f"id_number={self.masked_id_number!r})"
        )

    __str__ = __repr__


def _validated(number: Any, today: dt.date | None) -> tuple[str, dt.date, str]:
    if not isinstance(number, str) or not number.strip():
        raise IdentityError("no_id_number", "未读到身份证号码，请重新刷卡或到柜台办理")
    try:
        checked = validate_id_number(number, today=today)
    except InvalidIdNumber as exc:
        raise IdentityError(f"id_{exc.reason_code}", exc.message_zh) from None
    return checked.number, checked.birth_date, checked.sex


def _name(value: Any) -> str:
    name = str(value or "").strip()
    if not name:
        raise IdentityError("no_name", "未读到姓名，请重新刷卡或到柜台办理")
    if len(name) > 30 or any(ch in name for ch in "\x00\r\n\t"):
        raise IdentityError("bad_name", "读到的姓名无法识别，请到柜台办理")
    return name


def _sex(value: Any, fallback: str) -> str:
    return _SEX_CODES.get(str(value or "").strip(), fallback)


def person_from_sscard(card: Any, *, today: dt.date | None = None) -> Person:
    """From a decoded social security card (``SsCardData``: ssn, name, sex code, nation_name).

    The 社会保障号码 is the ID number; the birth date is taken from it (it is validated), and
    the card's own birth date must agree with it.
    """
    number, birth, sex_from_number = _validated(getattr(card, "ssn", None), today)
    card_birth = getattr(card, "birth_date", None)
    if isinstance(card_birth, dt.date) and card_birth != birth:
        raise IdentityError("birth_mismatch", "卡内出生日期与社会保障号码不一致，请到柜台办理")
    return Person(
        source=IdentitySource.SSCARD,
        id_number=number,
        name=_name(getattr(card, "name", "")),
        sex=_sex(getattr(card, "sex", ""), sex_from_number),
        birth_date=birth,
        nation=str(getattr(card, "nation_name", "") or ""),
    )


def person_from_idcard(card: Any, *, today: dt.date | None = None) -> Person:
    """From a decoded ID card (``IdCard``: id_number, name, sex 男/女, address, nation, and
    ``id_problem``/``id_problem_zh`` when the reader's rules rejected the number).

    A card whose number the reader flagged is refused with the reader's Chinese reason. The
    newest appended address (签注地址), when the card has one, replaces the printed address.
    """
    problem = str(getattr(card, "id_problem", "") or "")
    if problem:
        message = str(getattr(card, "id_problem_zh", "") or "") or "证件号码无法核验，请到柜台办理"
        raise IdentityError(f"id_{problem}", message)
    number, birth, sex_from_number = _validated(getattr(card, "id_number", None), today)
    nation = getattr(card, "nation_name", None) or getattr(card, "nation", "") or ""
    appended = tuple(getattr(card, "appended_addresses", ()) or ())
    address = appended[-1] if appended else getattr(card, "address", "")
    return Person(
        source=IdentitySource.IDCARD,
        id_number=number,
        name=_name(getattr(card, "name", "")),
        sex=_sex(getattr(card, "sex", ""), sex_from_number),
        birth_date=birth,
        nation=str(nation),
        address=str(address or "").strip(),
    )


def person_from_essc(answer: Mapping[str, Any], *, today: dt.date | None = None) -> Person:
    """From the backend's ``POST /essc/verify`` answer (id_number, name, gender, birth_date)."""
    if not isinstance(answer, Mapping):
        raise IdentityError("bad_answer", "电子社保卡核验结果无法识别，请重新扫码")
    number, birth, sex_from_number = _validated(answer.get("id_number"), today)
    return Person(
        source=IdentitySource.ESSC,
        id_number=number,
        name=_name(answer.get("name")),
        sex=_sex(answer.get("gender"), sex_from_number),
        birth_date=birth,
    )
