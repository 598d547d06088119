"""Identity checks for request validation: ID numbers by the kiosk's own rules
(``kiosk.domain.identity``, GB 11643 with historical division codes), phone numbers, masking."""

from __future__ import annotations

import re

from kiosk.domain.identity import (
    InvalidIdNumber,
    age_on,
    check_character,
    mask_id_number,
    mask_name,
    mask_phone,
    validate_id_number,
)

# Mainland mobile numbers (11 digits, 1[3-9]) or landlines like 0355-7012345.
_PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def normalize_id_number(text: str) -> str:
    """The canonical 18-character number (a legacy 15-digit one is upgraded).

    Raises InvalidIdNumber whose message is Chinese and never contains the number.
    """
    return validate_id_number(text).number


def birth_date_of(id_number: str):
    return validate_id_number(id_number, check_region=False).birth_date


def is_valid_phone(value: str) -> bool:
    return bool(_PHONE_RE.match(value))


__all__ = [
    "InvalidIdNumber",
    "age_on",
    "birth_date_of",
    "check_character",
    "is_valid_phone",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "normalize_id_number",
]
