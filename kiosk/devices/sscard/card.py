"""The decoded social security card (EF05 + EF06) and its pure field decoders.

:func:`decode_card` turns the raw values read by tag into :class:`SsCardData`, validating every
field (BCD dates, GBK names, the 社会保障号码 through :func:`kiosk.domain.identity.validate_id_number`);
anything wrong raises :class:`~kiosk.devices.sscard.errors.BadFieldValue` or
:class:`~kiosk.devices.sscard.errors.MissingField` naming the field, never its value.
:class:`SsCardData` holds personal data: its ``repr`` is masked, and :meth:`SsCardData.to_dict`
masks unless asked not to. :func:`ireadcardbas` gives the standard terminal interface string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum

from kiosk.devices.sscard.errors import BadFieldValue, MissingField, UnsupportedCardVersion
from kiosk.domain.identity import InvalidIdNumber, mask_id_number, mask_name, validate_id_number
from kiosk.domain.nations import NATIONS

# (tag, value length in bytes) of every field, in reading order; lengths per the SSSE spec.
EF05_FIELDS: tuple[tuple[int, int], ...] = (
    (0x01, 16),  # 卡识别码
    (0x02, 1),  # 卡类别
    (0x03, 4),  # 规范版本
    (0x04, 12),  # 初始化机构编号
    (0x05, 4),  # 发卡日期
    (0x06, 4),  # 有效期
    (0x07, 9),  # 卡号
)
EF06_FIELDS: tuple[tuple[int, int], ...] = (
    (0x08, 18),  # 社会保障号码
    (0x09, 30),  # 姓名
    (0x0A, 1),  # 性别
    (0x0B, 1),  # 民族
    (0x0C, 3),  # 出生地
    (0x0D, 4),  # 出生日期
)
TAG_CARD_ID = 0x01
CARD_ID_LENGTH = 16
TAG_VERSION = 0x03
VERSION_LENGTH = 4
TAG_NAME_EXTENSION = 0x4E
NAME_EXTENSION_LENGTH = 20
SEX_LABELS = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}
_PADDING = b"\x00\x20\xff"


EVIDENCE_SSCARD_PSAM = "sscard_psam"


@dataclass(frozen=True)
class CardAuthentication:
    """How the card proved itself before it was read; no personal data.

    ``method`` is the authenticator ("psam" or "none"); ``internal`` / ``external`` say which
    of INTERNAL AUTHENTICATE (the card proved its key to the PSAM) and EXTERNAL AUTHENTICATE
    (the PSAM proved the read key to a 3.0 card) passed; ``card_id`` is the 卡识别码 the keys
    were diversified by, ``terminal_number`` the PSAM's 终端机编号. :attr:`evidence` is what an
    identity token may cite: ``"sscard_psam"`` only when the PSAM verified the card.
    """

    method: str
    algorithm: str = ""
    internal: bool = False
    external: bool = False
    terminal_number: str = ""
    card_id: str = ""

    @property
    def evidence(self) -> str:
        return EVIDENCE_SSCARD_PSAM if self.method == "psam" and self.internal else ""

    def to_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "algorithm": self.algorithm,
            "internal": self.internal,
            "external": self.external,
            "terminal_number": self.terminal_number,
            "evidence": self.evidence,
        }


NOT_AUTHENTICATED = CardAuthentication(method="none")


class CardGeneration(IntEnum):
    """第一代 / 第二代 / 第三代 社会保障卡, from 规范版本 (EF05 tag 03), never from the ATR."""

    FIRST = 1
    SECOND = 2
    THIRD = 3


@dataclass(frozen=True)
class SsCardData:
    """Everything read from one card. Dates are ``datetime.date``; codes are digit strings.

    Personal fields (ssn, name, birth data, card number) are excluded from ``repr``; use
    :meth:`to_dict` with ``masked=False`` only where the full value is needed.
    """

    atr: bytes = field(repr=False)
    card_id: str  # 卡识别码, 32 upper-case hex digits; the first 6 are the 区划代码
    card_type: str
    version: str  # "1.00" / "2.00" / "3.00"
    generation: CardGeneration
    issuer_code: str
    issue_date: date
    expiry_date: date
    card_number: str = field(repr=False)
    ssn: str = field(repr=False)
    name: str = field(repr=False)
    sex: str = field(repr=False)  # GB/T 2261.1 code: "1" 男, "2" 女, "0", "9"
    nation: str = field(repr=False)  # GB/T 3304 code, "01" 汉族
    birthplace: str = field(repr=False)  # 6-digit division code
    birth_date: date = field(repr=False)
    # Set by the read sequence: how (and whether) the card was authenticated.
    authentication: CardAuthentication = field(default=NOT_AUTHENTICATED, compare=False)

    @property
    def region_code(self) -> str:
        """区划代码 of the issuing region (first 6 digits of 卡识别码)."""
        return self.card_id[:6]

    @property
    def sex_label(self) -> str:
        return SEX_LABELS.get(self.sex, "未知")

    @property
    def nation_name(self) -> str:
        return NATIONS.get(self.nation, "未知")

    def is_expired(self, today: date) -> bool:
        """True when the card's 有效期 is before *today* (the card is valid on its last day)."""
        return self.expiry_date < today

    @property
    def masked_ssn(self) -> str:
        return mask_id_number(self.ssn)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_card_number(self) -> str:
        return mask_card_number(self.card_number)

    def to_dict(self, *, masked: bool = True) -> dict[str, object]:
        """Plain JSON-ready dict (dates as YYYY-MM-DD); personal fields masked unless told not."""
        return {
            "version": self.version,
            "generation": int(self.generation),
            "card_type": self.card_type,
            "card_number": self.masked_card_number if masked else self.card_number,
            "card_id": self.card_id,
            "region_code": self.region_code,
            "issuer_code": self.issuer_code,
            "issue_date": self.issue_date.isoformat(),
            "expiry_date": self.expiry_date.isoformat(),
            "ssn": self.masked_ssn if masked else self.ssn,
            "name": self.masked_name if masked else self.name,
            "sex": self.sex_label,
            "nation": self.nation_name,
            "birthplace": "******" if masked else self.birthplace,
            "birth_date": "****-**-**" if masked else self.birth_date.isoformat(),
            "authentication": self.authentication.to_dict(),
        }

    def __repr__(self) -> str:
        return (
            f"SsCardData(version={self.version!r}, region_code={self.region_code!r}, "
            f"card_number={self.masked_card_number!r}, ssn={self.masked_ssn!r}, "
            f"name={self.masked_name!r}, expiry_date={self.expiry_date.isoformat()!r})"
        )


def mask_card_number(number: str) -> str:
    """``B12345678`` → ``B*****678``: keep the first character and the last three."""
    if len(number) <= 4:
        return "*" * len(number)
    return number[0] + "*" * (len(number) - 4) + number[-3:]


def parse_generation(raw_version: bytes) -> tuple[str, CardGeneration]:
    """规范版本 (4 bytes ASCII such as ``b"2.00"``) → (text, generation)."""
    text = _ascii(raw_version, "规范版本")
    if len(text) < 3 or text[1] != "." or not text[0].isdigit():
        raise UnsupportedCardVersion(f"规范版本 is not of the form N.NN ({len(text)} chars)")
    try:
        return text, CardGeneration(int(text[0]))
    except ValueError:
        raise UnsupportedCardVersion(f"规范版本 major version {text[0]} is not 1, 2 or 3") from None


def decode_card(
    ef05: dict[int, bytes], ef06: dict[int, bytes], atr: bytes, *, today: date | None = None
) -> SsCardData:
    """Decode raw values by tag (name extension 0x4E optional) into SsCardData.

    *today* bounds the birth date check of the 社会保障号码 (default: the local date).
    Raises MissingField, BadFieldValue or UnsupportedCardVersion.
    """
    for tag, _ in EF05_FIELDS:
        if tag not in ef05:
            raise MissingField(f"EF05 tag {tag:02X} missing")
    for tag, _ in EF06_FIELDS:
        if tag not in ef06:
            raise MissingField(f"EF06 tag {tag:02X} missing")
    version, generation = parse_generation(ef05[TAG_VERSION])
    card_id = _exact(ef05[0x01], 16, "卡识别码").hex().upper()
    if not card_id[:6].isdigit():
        raise BadFieldValue("卡识别码 does not start with a 6-digit region code")
    ssn_text = _ascii(_exact(ef06[0x08], 18, "社会保障号码", allow_shorter=True), "社会保障号码")
    try:
        ssn = validate_id_number(ssn_text, today=today).number
    except InvalidIdNumber as exc:
        raise BadFieldValue(f"社会保障号码 invalid: {exc.reason_code}") from None
    name = _gbk(ef06[0x09], "姓名") + _gbk(ef06.get(TAG_NAME_EXTENSION, b""), "姓名扩展")
    if not name:
        raise BadFieldValue("姓名 is empty")
    card_number = _ascii(ef05[0x07], "卡号")
    if not card_number or not card_number.isalnum():
        raise BadFieldValue("卡号 is empty or not alphanumeric")
    return SsCardData(
        atr=bytes(atr),
        card_id=card_id,
        card_type=_code(ef05[0x02], "卡类别"),
        version=version,
        generation=generation,
        issuer_code=_code(ef05[0x04], "初始化机构编号"),
        issue_date=bcd_date(ef05[0x05], "发卡日期"),
        expiry_date=bcd_date(ef05[0x06], "有效期"),
        card_number=card_number,
        ssn=ssn,
        name=name,
        sex=_sex(ef06[0x0A]),
        nation=bcd_digits(_exact(ef06[0x0B], 1, "民族"), "民族"),
        birthplace=bcd_digits(_exact(ef06[0x0C], 3, "出生地"), "出生地"),
        birth_date=bcd_date(ef06[0x0D], "出生日期"),
    )


def ireadcardbas(card: SsCardData, *, terminal_number: str = "", device_number: str = "") -> str:
    """The ``iReadCardBas`` string: 11 ``|``-separated fields, ``|``-terminated.

    区划代码|社会保障号码|卡号|卡识别码|姓名|卡复位信息|规范版本|发卡日期|卡有效期|终端机编号|终端设备号|
    卡复位信息 is the ATR's historical bytes in hex (the whole ATR if it does not parse);
    *terminal_number* comes from a PSAM (empty without one), *device_number* is the kiosk's id.
    Contains personal data: never log it.
    """
    fields = [
        card.region_code,
        card.ssn,
        card.card_number,
        card.card_id,
        card.name,
        atr_historical_bytes(card.atr).hex().upper(),
        card.version,
        card.issue_date.strftime("%Y%m%d"),
        card.expiry_date.strftime("%Y%m%d"),
        terminal_number,
        device_number,
    ]
    return "".join(f"{value}|" for value in fields)


def atr_historical_bytes(atr: bytes) -> bytes:
    """The historical bytes of an ISO 7816-3 ATR; the whole ATR when it does not parse."""
    if len(atr) < 2:
        return bytes(atr)
    count = atr[1] & 0x0F
    indicator = atr[1] >> 4
    pos = 2
    while True:
        present = bin(indicator).count("1")
        if indicator & 0x8:  # TDi present: it names the next interface bytes
            if pos + present > len(atr):
                return bytes(atr)
            indicator = atr[pos + present - 1] >> 4
            pos += present
        else:
            pos += present
            break
    if pos + count > len(atr):
        return bytes(atr)
    return bytes(atr[pos : pos + count])


def bcd_digits(raw: bytes, what: str) -> str:
    """Packed BCD → digit string; BadFieldValue on a nibble above 9."""
    text = raw.hex()
    if not text.isdigit():
        raise BadFieldValue(f"{what} is not BCD")
    return text


def bcd_date(raw: bytes, what: str) -> date:
    """4 bytes BCD YYYYMMDD → date; BadFieldValue on a wrong length or an impossible date."""
    digits = bcd_digits(_exact(raw, 4, what), what)
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise BadFieldValue(f"{what} is not a valid date") from None


def _exact(raw: bytes, length: int, what: str, *, allow_shorter: bool = False) -> bytes:
    if len(raw) == length or (allow_shorter and 0 < len(raw) < length):
        return raw
    raise BadFieldValue(f"{what} has {len(raw)} bytes, {length} expected")


def _ascii(raw: bytes, what: str) -> str:
    stripped = raw.rstrip(_PADDING)
    if not all(0x20 <= byte < 0x7F for byte in stripped):
        raise BadFieldValue(f"{what} is not printable ASCII")
    return stripped.decode("ascii").strip()


def _code(raw: bytes, what: str) -> str:
    """A code field: printable ASCII as text, otherwise upper-case hex (cards differ)."""
    stripped = raw.rstrip(b"\x00\xff")
    if stripped and all(0x20 <= byte < 0x7F for byte in stripped):
        return stripped.decode("ascii").strip()
    return raw.hex().upper()


def _gbk(raw: bytes, what: str) -> str:
    stripped = raw.rstrip(_PADDING)
    try:
        text = stripped.decode("gb18030")
    except UnicodeDecodeError:
        raise BadFieldValue(f"{what} is not GBK text") from None
    if any(not ch.isprintable() for ch in text):
        raise BadFieldValue(f"{what} contains control characters")
    return text.strip()


def _sex(raw: bytes) -> str:
    value = _exact(raw, 1, "性别")[0]
    if chr(value) in SEX_LABELS:  # ASCII '1' / '2' (most cards)
        return chr(value)
    if str(value) in SEX_LABELS:  # binary 1 / 2 (some issuers)
        return str(value)
    raise BadFieldValue("性别 code is not 0, 1, 2 or 9")
