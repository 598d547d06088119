"""Validation of what a resident entered on the kiosk's keypads and pickers (pure).

Each validator takes the raw text a keypad or picker produced and returns the typed value, or
raises :class:`FieldInvalid` whose ``message`` is one short Chinese sentence for the screen and
never repeats the value (a phone number must not land in a log through an error message).

Kinds and what they return:

==============  ===============================================  ===========================
kind            accepts                                          returns
==============  ===============================================  ===========================
keypad_number   digits (full-width allowed), within min..max     ``int``
phone           11-digit mobile 1[3-9]…, or 0 + area code (2-3   ``str`` (digits, ``-`` kept)
                digits) + 7-8 digits, an optional ``-``
amount          yuan with at most two decimals, within min..max   ``Decimal``
date            ``YYYYMMDD`` / ``YYYY-MM-DD``, a real date,        ``datetime.date``
                within an earliest/latest bound relative to today
picker          one of the offered options                        ``str``
multi_picker    1..max_choices distinct options                   ``tuple[str, ...]``
yes_no          是/否, yes/no, true/false, 1/0                      ``bool``
text            free Chinese text, no control characters, length   ``str`` (stripped)
==============  ===============================================  ===========================

An empty value of an optional field gives ``None``; of a required field, ``请填写“<label>”``.
Thread-safe; no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

KINDS = (
    "keypad_number",
    "phone",
    "amount",
    "date",
    "picker",
    "multi_picker",
    "yes_no",
    "text",
    "code",
)
# A "code" field (a certificate number such as S000014043100223): letters, digits and "-".
# The platform enforces the same format (kiosk_backend.routes.applications imports it).
CODE_PATTERN = r"^[0-9A-Za-z-]+$"
_CODE = re.compile(CODE_PATTERN)

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_DASHED = re.compile(r"^(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})日?$")
_AMOUNT = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
_YES = frozenset({"是", "yes", "true", "1", "y"})
_NO = frozenset({"否", "no", "false", "0", "n"})


class FieldInvalid(ValueError):
    """A field's value is unusable: ``field`` is its key, ``message`` Chinese for the screen."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Rule:
    """How one field is checked; built from an item definition's field (see items.model).

    ``min_value``/``max_value`` bound numbers and amounts; ``earliest_days``/``latest_days``
    bound dates relative to today (e.g. latest_days=0: not in the future); ``max_length``
    bounds text; ``options`` are the picker's choices (empty: checked elsewhere, e.g. a list
    the server supplies); ``max_choices`` limits a multi_picker.
    """

    key: str
    label: str
    kind: str
    required: bool = True
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    earliest_days: int | None = None
    latest_days: int | None = None
    max_length: int = 40
    min_length: int = 0
    options: tuple[str, ...] = ()
    max_choices: int = 1
    keep_text: bool = False


def normalise_keypad_text(text: str) -> str:
    """Full-width digits and letters to ASCII, surrounding blanks removed."""
    return unicodedata.normalize("NFKC", text).strip()


def validate_phone(text: str, field: str = "phone", label: str = "联系电话") -> str:
    """An 11-digit mobile number or a landline with its area code (e.g. 0355-7012345)."""
    value = normalise_keypad_text(text).replace(" ", "")
    if not value.replace("-", "").isdigit():
        raise FieldInvalid(field, f"“{label}”只能输入数字")
    if value.startswith("1"):
        if len(value) != 11:
            raise FieldInvalid(field, f"“{label}”手机号码应为11位")
        if not _MOBILE.match(value):
            raise FieldInvalid(field, f"“{label}”不是有效的手机号码")
        return value
    if not _LANDLINE.match(value):
        raise FieldInvalid(field, f"“{label}”应为11位手机号码或带区号的固定电话")
    return value


def validate_integer(
    text: str,
    field: str,
    label: str,
    min_value: Decimal | int | None = None,
    max_value: Decimal | int | None = None,
) -> int:
    """Digits only (no sign, no decimals), within the bounds."""
    value = normalise_keypad_text(text)
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise FieldInvalid(field, f"“{label}”只能输入整数")
    number = int(value)
    _check_bounds(Decimal(number), field, label, min_value, max_value, "")
    return number


def validate_digits(text: str, field: str, label: str, min_length: int, max_length: int) -> str:
    """A number that identifies something (a certificate number): digits kept as text."""
    value = normalise_keypad_text(text).replace(" ", "")
    if not value.isascii() or not value.isdigit():
        raise FieldInvalid(field, f"“{label}”只能输入数字")
    return _within_length(value, field, label, min_length, max_length)


def _within_length(value: str, field: str, label: str, min_length: int, max_length: int) -> str:
    if len(value) < min_length:
        raise FieldInvalid(field, f"“{label}”至少{min_length}位")
    if len(value) > max_length:
        raise FieldInvalid(field, f"“{label}”最多{max_length}位")
    return value


def validate_code(text: str, field: str, label: str, min_length: int, max_length: int) -> str:
    """An identifier typed on the letter keys (a certificate number): letters (upper-cased),
    digits and "-" only (:data:`CODE_PATTERN`), blanks dropped, within the length bounds."""
    value = normalise_keypad_text(text).replace(" ", "").upper()
    if not value.isascii() or not _CODE.match(value):
        raise FieldInvalid(field, f"“{label}”只能包含字母、数字和“-”")
    return _within_length(value, field, label, min_length, max_length)


def validate_amount(
    text: str,
    field: str,
    label: str,
    min_value: Decimal | int | None = None,
    max_value: Decimal | int | None = None,
) -> Decimal:
    """Yuan with at most two decimals (``1200``, ``85.5``), within the bounds."""
    value = normalise_keypad_text(text).removesuffix("元")
    if not _AMOUNT.match(value):
        raise FieldInvalid(field, f"“{label}”应为金额（元），最多两位小数")
    try:
        amount = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes this
        raise FieldInvalid(field, f"“{label}”应为金额（元）") from None
    _check_bounds(amount, field, label, min_value, max_value, "元")
    return amount


def _check_bounds(value, field, label, low, high, unit) -> None:
    if low is not None and value < Decimal(low):
        raise FieldInvalid(field, f"“{label}”不能小于{_plain(low)}{unit}")
    if high is not None and value > Decimal(high):
        raise FieldInvalid(field, f"“{label}”不能大于{_plain(high)}{unit}")


def _plain(number: Decimal | int) -> str:
    text = format(Decimal(number), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def validate_date(
    text: str,
    field: str,
    label: str,
    today: dt.date,
    earliest_days: int | None = None,
    latest_days: int | None = None,
) -> dt.date:
    """A real calendar date typed as YYYYMMDD (keypad) or YYYY-MM-DD.

    *earliest_days*/*latest_days* are offsets from *today*: ``latest_days=0`` forbids the
    future, ``earliest_days=0`` the past, ``earliest_days=-366`` more than a year back.
    Years before 1900 are refused whatever the bounds.
    """
    value = normalise_keypad_text(text).replace(" ", "")
    match = _DATE_COMPACT.match(value) or _DATE_DASHED.match(value)
    if not match:
        raise FieldInvalid(field, f"“{label}”请按 年月日 输入8位数字，如 20260105")
    year, month, day = (int(part) for part in match.groups())
    try:
        date = dt.date(year, month, day)
    except ValueError:
        raise FieldInvalid(field, f"“{label}”不是有效的日期") from None
    if date.year < 1900:
        raise FieldInvalid(field, f"“{label}”不是有效的日期")
    if latest_days is not None and date > today + dt.timedelta(days=latest_days):
        if latest_days == 0:
            raise FieldInvalid(field, f"“{label}”不能晚于今天")
        raise FieldInvalid(field, f"“{label}”不能晚于{_date_zh(today, latest_days)}")
    if earliest_days is not None and date < today + dt.timedelta(days=earliest_days):
        if earliest_days == 0:
            raise FieldInvalid(field, f"“{label}”不能早于今天")
        raise FieldInvalid(field, f"“{label}”不能早于{_date_zh(today, earliest_days)}")
    return date


def _date_zh(today: dt.date, offset: int) -> str:
    day = today + dt.timedelta(days=offset)
    return f"{day.year}年{day.month}月{day.day}日"


def validate_choice(text: str, field: str, label: str, options: Sequence[str]) -> str:
    """One of *options* (when *options* is empty, any non-empty short value)."""
    value = text.strip()
    if options and value not in options:
        raise FieldInvalid(field, f"请从列表中选择“{label}”")
    if len(value) > 40:
        raise FieldInvalid(field, f"“{label}”过长")
    return value


def validate_choices(
    values: Iterable[str], field: str, label: str, options: Sequence[str], max_choices: int
) -> tuple[str, ...]:
    """Distinct choices among *options*, at least one and at most *max_choices*."""
    chosen = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not chosen:
        raise FieldInvalid(field, f"请至少选择一项“{label}”")
    if len(chosen) > max_choices:
        raise FieldInvalid(field, f"“{label}”最多选择{max_choices}项")
    for value in chosen:
        validate_choice(value, field, label, options)
    return chosen


def validate_yes_no(value: Any, field: str, label: str) -> bool:
    """是/否 (or a bool)."""
    if isinstance(value, bool):
        return value
    text = normalise_keypad_text(str(value)).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise FieldInvalid(field, f"请选择“{label}”：是 或 否")


def validate_text(text: str, field: str, label: str, max_length: int) -> str:
    """Free text: stripped, no control characters, at most *max_length* characters."""
    value = unicodedata.normalize("NFC", text).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in value):
        raise FieldInvalid(field, f"“{label}”含有无法识别的字符")
    if len(value) > max_length:
        raise FieldInvalid(field, f"“{label}”最多{max_length}个字")
    return value


def _is_empty(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple | set | frozenset):
        return not any(str(v).strip() for v in raw)
    return False


def validate_value(rule: Rule, raw: Any, today: dt.date) -> Any:
    """Check one raw value against *rule*; returns the typed value or None (empty optional).

    Raises :class:`FieldInvalid`. ``raw`` is a string from a keypad/picker, a sequence of
    strings for a multi_picker, or a bool for yes_no.
    """
    key, label = rule.key, rule.label
    if _is_empty(raw):
        if rule.required:
            verb = "选择" if rule.kind in ("picker", "multi_picker", "yes_no") else "填写"
            raise FieldInvalid(key, f"请{verb}“{label}”")
        return None
    kind = rule.kind
    if kind == "multi_picker":
        values = [raw] if isinstance(raw, str) else list(raw)
        return validate_choices(
            [str(v) for v in values], key, label, rule.options, rule.max_choices
        )
    if kind == "yes_no":
        return validate_yes_no(raw, key, label)
    if not isinstance(raw, str):
        raise FieldInvalid(key, f"“{label}”的内容无法识别")
    if kind == "phone":
        return validate_phone(raw, key, label)
    if kind == "keypad_number" and rule.keep_text:
        return validate_digits(raw, key, label, rule.min_length, rule.max_length)
    if kind == "keypad_number":
        return validate_integer(raw, key, label, rule.min_value, rule.max_value)
    if kind == "amount":
        return validate_amount(raw, key, label, rule.min_value, rule.max_value)
    if kind == "date":
        return validate_date(raw, key, label, today, rule.earliest_days, rule.latest_days)
    if kind == "picker":
        return validate_choice(raw, key, label, rule.options)
    if kind == "text":
        return validate_text(raw, key, label, rule.max_length)
    if kind == "code":
        return validate_code(raw, key, label, rule.min_length, rule.max_length)
    raise ValueError(f"unknown field kind {kind!r}")


def validate_all(
    rules: Sequence[Rule], values: Mapping[str, Any], today: dt.date
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check every field; returns ``(clean values, {field: Chinese message})``.

    Every field is checked (not only up to the first error) so the screen can mark them all.
    Keys of *values* that no rule names are ignored.
    """
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for rule in rules:
        try:
            clean[rule.key] = validate_value(rule, values.get(rule.key), today)
        except FieldInvalid as exc:
            errors[rule.key] = exc.message
    return clean, errors
