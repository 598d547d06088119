"""Resident identity numbers (GB 11643) and masking of personal data for screens and receipts.

Pure functions, safe from any thread. :func:`validate_id_number` turns what a resident typed or a
card reader returned into an :class:`IdNumber`, or raises :class:`InvalidIdNumber` with a stable
``reason_code`` and a Chinese message fit to show on screen. Messages never contain the number.

An 18-digit number is: 6-digit division code (GB/T 2260) + birth date YYYYMMDD + 3-digit sequence
(odd = 男, even = 女) + a check character (ISO 7064 MOD 11-2, ``X`` for 10). A 15-digit number is
the pre-1999 legacy form: code + YYMMDD (19YY) + sequence, no check character; it is converted to
18 digits by inserting "19" and computing the check character.

Division codes are checked against current AND historical GB/T 2260 codes (``data/
gb2260_divisions.csv``), because a number keeps the code of the county that issued it after the
county is merged or renamed. An unknown first two digits (no such province) is an error; an
unknown six-digit code within a real province is only a *warning* (``region_known=False``), since
the list may lag newly created codes.
"""

from __future__ import annotations

import csv
import functools
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

# ISO 7064 MOD 11-2 weights for the first 17 digits, and the check character per remainder.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = date(1900, 1, 1)
MALE = "男"
FEMALE = "女"

# reason codes of InvalidIdNumber
REASON_EMPTY = "empty"
REASON_LENGTH = "length"
REASON_CHARACTERS = "characters"
REASON_CHECKSUM = "checksum"
REASON_DATE = "date"
REASON_FUTURE = "future"
REASON_TOO_OLD = "too_old"
REASON_REGION = "region"

WARNING_REGION_UNKNOWN = "行政区划代码不在已知的代码表中，请核对号码（新设区县的代码可能尚未收录）"


class InvalidIdNumber(ValueError):
    """The text is not a valid resident ID number.

    ``reason_code`` is one of the ``REASON_*`` constants (stable, for code and tests);
    ``message_zh`` is a short Chinese explanation for the resident and is also ``str(exc)``.
    Neither contains the number.
    """

    def __init__(self, reason_code: str, message_zh: str):
        super().__init__(message_zh)
        self.reason_code = reason_code
        self.message_zh = message_zh


@dataclass(frozen=True)
class IdNumber:
    """A validated resident ID number.

    ``number`` is always the normalised 18-character form (upper-case ``X``), also for a legacy
    15-digit input (``legacy15=True``). ``region_known`` is True when the division code is in the
    GB/T 2260 list (current or historical), False when it is not (then ``warnings`` says so), and
    None when no list was consulted. The ``repr`` masks the number so it cannot leak into logs.
    """

    number: str = field(repr=False)
    region_code: str
    birth_date: date = field(repr=False)
    sex: str
    legacy15: bool = False
    region_known: bool | None = None
    warnings: tuple[str, ...] = ()
    region_name: str = ""

    @property
    def masked(self) -> str:
        """The number as shown on screens and receipts: ``1404**********123X``."""
        return mask_id_number(self.number)

    def age_on(self, on_date: date) -> int:
        """Age in whole years (周岁) on ``on_date``; see :func:`age_on`."""
        return age_on(self.birth_date, on_date)

    def __repr__(self) -> str:
        return (
            f"IdNumber(number={self.masked!r}, region_code={self.region_code!r}, "
            f"sex={self.sex!r}, legacy15={self.legacy15}, region_known={self.region_known})"
        )


class DivisionCodes:
    """GB/T 2260 division codes, current and historical: code → names it has carried."""

    def __init__(self, names: dict[str, tuple[str, ...]]):
        self._names = dict(names)
        self._provinces = frozenset(code[:2] for code in self._names)

    def __contains__(self, code: object) -> bool:
        return code in self._names

    def __len__(self) -> int:
        return len(self._names)

    def name(self, code: str) -> str:
        """The most recent name of ``code`` ("" if unknown), e.g. 140431 → 沁源县."""
        names = self._names.get(code, ())
        return names[-1] if names else ""

    def province_known(self, code: str) -> bool:
        """True if the first two digits of ``code`` are a province-level code."""
        return code[:2] in self._provinces


def load_division_codes(path: str | Path | None = None) -> DivisionCodes:
    """Read a division-code CSV (``code,name,start_year,end_year,source``; ``#`` comments).

    Default: the packaged ``data/gb2260_divisions.csv``. Raises ``OSError`` if unreadable and
    ``ValueError`` on a malformed row (the row number is named).
    """
    if path is None:
        text = (resources.files("kiosk.domain") / "data" / "gb2260_divisions.csv").read_text(
            encoding="utf-8"
        )
    else:
        text = Path(path).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    names: dict[str, list[tuple[str, str]]] = {}
    for row_number, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        code = (row.get("code") or "").strip()
        name = (row.get("name") or "").strip()
        if len(code) != 6 or not code.isdigit() or not name:
            raise ValueError(f"division code data row {row_number}: bad code or name")
        # Order a code's names by the year they took effect so name() gives the newest.
        names.setdefault(code, []).append(((row.get("start_year") or "").strip(), name))
    return DivisionCodes(
        {code: tuple(name for _, name in sorted(entries)) for code, entries in names.items()}
    )


@functools.lru_cache(maxsize=1)
def default_division_codes() -> DivisionCodes:
    """The packaged division codes, read once on first use (immutable, so sharing is safe)."""
    return load_division_codes()


def check_character(first17: str) -> str:
    """The GB 11643 check character for 17 digits. Raises ``ValueError`` if not 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def upgrade_legacy(number15: str) -> str:
    """Convert a 15-digit legacy number to 18: insert "19" before YYMMDD, append the check."""
    if len(number15) != 15 or not number15.isascii() or not number15.isdigit():
        raise ValueError("need exactly 15 ASCII digits")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_character(first17)


def build_id_number(region_code: str, birth_date: date, sequence: int) -> str:
    """Compose a valid 18-character number (for simulators and tests).

    ``sequence`` is 0–999; odd means 男, even means 女. Raises ``ValueError`` on bad parts.
    """
    if len(region_code) != 6 or not region_code.isdigit():
        raise ValueError("region_code must be 6 digits")
    if not 0 <= sequence <= 999 or not 1000 <= birth_date.year <= 9999:
        raise ValueError("sequence must be 0-999 and the year four digits")
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def normalise_id_text(text: str) -> str:
    """Full-width digits to ASCII, spaces removed, ``x`` upper-cased."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def validate_id_number(
    text: str,
    *,
    today: date | None = None,
    divisions: DivisionCodes | None = None,
    check_region: bool = True,
) -> IdNumber:
    """Validate an 18- or 15-digit resident ID number and derive its facts.

    ``today`` bounds the birth date (default: the local date). ``divisions`` defaults to the
    packaged GB/T 2260 list; ``check_region=False`` skips the list (``region_known=None``).
    Raises :class:`InvalidIdNumber` for: empty input, wrong length, wrong characters, a wrong
    check character, an impossible date, a birth date in the future or before 1900, or a
    province code that does not exist.
    """
    if not isinstance(text, str):
        raise InvalidIdNumber(REASON_CHARACTERS, "身份证号码应为文字")
    number = normalise_id_text(text)
    if not number:
        raise InvalidIdNumber(REASON_EMPTY, "请输入身份证号码")
    if len(number) not in (15, 18):
        raise InvalidIdNumber(REASON_LENGTH, "身份证号码应为18位（旧证15位）")
    legacy15 = len(number) == 15
    body = number if legacy15 else number[:17]
    if not body.isascii() or not body.isdigit():
        raise InvalidIdNumber(REASON_CHARACTERS, "身份证号码只能包含数字，最后一位可以是X")
    if legacy15:
        number = upgrade_legacy(number)
    else:
        last = number[17]
        if last not in _CHECK_CHARS:
            raise InvalidIdNumber(REASON_CHARACTERS, "身份证号码最后一位只能是数字或X")
        if check_character(body) != last:
            raise InvalidIdNumber(REASON_CHECKSUM, "身份证号码校验码不正确，请核对号码")

    birth_date = _birth_date(number[6:14])
    today = date.today() if today is None else today
    if birth_date > today:
        raise InvalidIdNumber(REASON_FUTURE, "身份证号码中的出生日期晚于今天")
    if birth_date < EARLIEST_BIRTH:
        raise InvalidIdNumber(REASON_TOO_OLD, "身份证号码中的出生日期早于1900年")

    region_code = number[:6]
    region_known: bool | None = None
    region_name = ""
    warnings: tuple[str, ...] = ()
    if check_region:
        divisions = default_division_codes() if divisions is None else divisions
        if region_code.startswith("9"):
            # Since 2023 the 外国人永久居留身份证 uses the same layout with a leading 9.
            raise InvalidIdNumber(
                REASON_REGION, "此号码是外国人永久居留身份证号码，本机不能办理，请到柜台办理"
            )
        if not divisions.province_known(region_code):
            raise InvalidIdNumber(REASON_REGION, "身份证号码前两位不是有效的省级行政区划代码")
        region_known = region_code in divisions
        region_name = divisions.name(region_code)
        if not region_known:
            warnings = (WARNING_REGION_UNKNOWN,)

    return IdNumber(
        number=number,
        region_code=region_code,
        birth_date=birth_date,
        sex=MALE if int(number[16]) % 2 else FEMALE,
        legacy15=legacy15,
        region_known=region_known,
        warnings=warnings,
        region_name=region_name,
    )


def _birth_date(yyyymmdd: str) -> date:
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise InvalidIdNumber(REASON_DATE, "身份证号码中的出生日期不存在") from None


def age_on(birth_date: date, on_date: date) -> int:
    """Age in whole years (周岁) on ``on_date``; 0 before the first birthday.

    The age goes up on the birthday itself. Someone born on 29 February has the birthday on
    1 March in years without one (they are not yet of age on 28 February), which is the safe
    reading for age thresholds such as 16, 60 and 65. Raises ``ValueError`` if ``on_date`` is
    before ``birth_date``.
    """
    if on_date < birth_date:
        raise ValueError("on_date is before the birth date")
    years = on_date.year - birth_date.year
    if (on_date.month, on_date.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def mask_id_number(number: str) -> str:
    """Mask an ID number keeping at most the first 4 and last 4 characters.

    ``140431199001011234`` → ``1404**********1234``. Shorter text keeps proportionally less
    (a quarter each side) so a fragment never shows more than it hides; "" stays "".
    """
    text = normalise_id_text(number)
    keep = min(4, len(text) // 4)
    if keep == 0:
        return "*" * len(text)
    return text[:keep] + "*" * (len(text) - 2 * keep) + text[-keep:]


def mask_name(name: str) -> str:
    """Mask a person's name: ``李春英`` → ``李*英``, ``张三`` → ``张*``, 4+ keep first and last.

    Every hidden character becomes one ``*``; a one-character name becomes ``*``.
    """
    text = name.strip()
    if len(text) <= 1:
        return "*" * len(text)
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_phone(phone: str) -> str:
    """Mask a phone number: ``13812345678`` → ``138****5678``.

    Spaces, hyphens and a +86/0086 prefix are dropped first. An 11-digit mobile keeps its first 3
    and last 4 digits; any other number keeps only its last 4 (all masked if 7 characters or
    fewer).
    """
    text = "".join(ch for ch in normalise_id_text(phone) if ch not in "-()")
    for prefix in ("+86", "0086"):
        if text.startswith(prefix) and len(text) > len(prefix) + 7:
            text = text[len(prefix) :]
    if len(text) == 11 and text.isdigit() and text.startswith("1"):
        return text[:3] + "****" + text[-4:]
    if len(text) <= 7:
        return "*" * len(text)
    return "*" * (len(text) - 4) + text[-4:]
