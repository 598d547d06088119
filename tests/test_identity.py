"""Resident ID numbers (GB 11643), division codes (GB/T 2260 with history), ages and masking."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kiosk.domain.identity import (
    FEMALE,
    MALE,
    REASON_CHARACTERS,
    REASON_CHECKSUM,
    REASON_DATE,
    REASON_EMPTY,
    REASON_FUTURE,
    REASON_LENGTH,
    REASON_REGION,
    REASON_TOO_OLD,
    WARNING_REGION_UNKNOWN,
    DivisionCodes,
    IdNumber,
    InvalidIdNumber,
    age_on,
    build_id_number,
    check_character,
    default_division_codes,
    load_division_codes,
    mask_id_number,
    mask_name,
    mask_phone,
    upgrade_legacy,
    validate_id_number,
)

TODAY = date(2026, 11, 29)
# The example of GB 11643-1999 itself: 11010519491231002X (北京朝阳, 女).
STANDARD_EXAMPLE = "11010519491231002X"


def validate(text: str, **kwargs) -> IdNumber:
    return validate_id_number(text, today=TODAY, **kwargs)


def reason_of(text: str, **kwargs) -> str:
    with pytest.raises(InvalidIdNumber) as info:
        validate(text, **kwargs)
    assert info.value.message_zh  # always something to show the resident
    return info.value.reason_code


def test_the_standards_own_example():
    result = validate(STANDARD_EXAMPLE)
    assert result.number == STANDARD_EXAMPLE
    assert result.birth_date == date(1949, 12, 31)
    assert result.sex == FEMALE
    assert result.region_code == "110105"
    assert result.region_known is True
    assert result.region_name == "朝阳区"
    assert not result.legacy15
    assert result.warnings == ()


def test_check_character_values():
    assert check_character("11010519491231002") == "X"
    assert check_character("44052418800101001") == "4"
    with pytest.raises(ValueError):
        check_character("1234")


def test_qinyuan_county_is_valid():
    number = build_id_number("140431", date(1990, 1, 1), 123)
    result = validate(number)
    assert result.region_known is True
    assert result.region_name == "沁源县"
    assert result.sex == MALE  # 123 is odd


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("140421", "长治县"),  # became 上党区 140404 in 2018
        ("140424", "屯留县"),  # became 屯留区 140405 in 2018
        ("140481", "潞城市"),  # became 潞城区 140406 in 2018
        ("140402", "城区"),  # 长治 城区 → 潞州区 140403
        ("140422", "潞城县"),  # abolished 1994
        ("330184", "余杭市"),  # became 杭州 余杭区 in 2001
    ],
)
def test_historical_codes_stay_valid(code, name):
    result = validate(build_id_number(code, date(1965, 3, 7), 40))
    assert result.region_known is True
    assert result.region_name == name
    assert result.warnings == ()


def test_new_district_codes_are_known():
    assert validate(build_id_number("140404", date(2019, 1, 2), 1)).region_name == "上党区"
    # 2021 creations that only the newer package carries
    assert validate(build_id_number("350405", date(2022, 2, 3), 2)).region_name == "沙县区"


def test_unknown_county_in_a_real_province_is_a_warning_not_an_error():
    result = validate(build_id_number("140499", date(1980, 6, 1), 7))
    assert result.region_known is False
    assert result.warnings == (WARNING_REGION_UNKNOWN,)
    assert result.region_name == ""


@pytest.mark.parametrize("code", ["000000", "990101", "201234", "721234"])
def test_impossible_province_is_an_error(code):
    assert reason_of(build_id_number(code, date(1980, 6, 1), 7)) == REASON_REGION


def test_foreign_permanent_residence_number_is_explained():
    with pytest.raises(InvalidIdNumber) as info:
        validate(build_id_number("911840", date(1980, 6, 1), 7))
    assert info.value.reason_code == REASON_REGION
    assert "外国人永久居留身份证" in info.value.message_zh


def test_region_check_can_be_skipped():
    result = validate(build_id_number("990101", date(1980, 6, 1), 7), check_region=False)
    assert result.region_known is None


def test_custom_division_list(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text(
        "# test\ncode,name,start_year,end_year,source\n140431,沁源县,1985,,t\n", encoding="utf-8"
    )
    divisions = load_division_codes(path)
    assert len(divisions) == 1
    assert validate(
        build_id_number("140431", date(1990, 1, 1), 1), divisions=divisions
    ).region_known
    other = validate(build_id_number("140421", date(1990, 1, 1), 1), divisions=divisions)
    assert other.region_known is False


def test_malformed_division_list_names_the_row(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,name,start_year,end_year,source\n1404,x,,,t\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 2"):
        load_division_codes(path)


def test_packaged_division_list_is_large_and_historical():
    divisions = default_division_codes()
    assert isinstance(divisions, DivisionCodes)
    assert len(divisions) > 6000
    assert "140421" in divisions and "140404" in divisions


def test_legacy_15_digit_number_is_upgraded():
    number18 = build_id_number("140431", date(1965, 8, 9), 321)
    legacy = number18[:6] + number18[8:17]
    assert upgrade_legacy(legacy) == number18
    result = validate(legacy)
    assert result.legacy15 is True
    assert result.number == number18
    assert result.birth_date == date(1965, 8, 9)
    assert result.sex == MALE


def test_input_is_normalised():
    result = validate("  11010519491231002x ")
    assert result.number == STANDARD_EXAMPLE
    assert validate("１１０１０５１９４９１２３１００２Ｘ").number == STANDARD_EXAMPLE


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", REASON_EMPTY),
        ("   ", REASON_EMPTY),
        ("1101051949123100", REASON_LENGTH),
        ("11010519491231002X1", REASON_LENGTH),
        ("11010519491231002Y", REASON_CHARACTERS),
        ("1101051949123100X2", REASON_CHARACTERS),
        ("11010A19491231002X", REASON_CHARACTERS),
        ("11010519491231002٣", REASON_CHARACTERS),  # Arabic-Indic digit is not ASCII
        ("11010519491231X02X", REASON_CHARACTERS),
        ("110105194912310021", REASON_CHECKSUM),
        ("11010519491231003X", REASON_CHECKSUM),
        ("1101054912310X2", REASON_CHARACTERS),
    ],
)
def test_bad_shapes_are_typed_errors(text, reason):
    assert reason_of(text) == reason


def test_non_text_input_is_a_typed_error():
    with pytest.raises(InvalidIdNumber):
        validate_id_number(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("birth", "reason"),
    [
        ("19900230", REASON_DATE),
        ("19901301", REASON_DATE),
        ("19900000", REASON_DATE),
        ("19000229", REASON_DATE),  # 1900 was not a leap year
        ("20270101", REASON_FUTURE),
        ("20261130", REASON_FUTURE),
        ("18991231", REASON_TOO_OLD),
    ],
)
def test_impossible_or_out_of_range_birth_dates(birth, reason):
    first17 = f"140431{birth}123"
    assert reason_of(first17 + check_character(first17)) == reason


def test_leap_day_and_today_are_fine():
    assert validate(build_id_number("140431", date(2000, 2, 29), 2)).birth_date == date(2000, 2, 29)
    assert validate(build_id_number("140431", TODAY, 2)).birth_date == TODAY
    assert validate(build_id_number("140431", date(1900, 1, 1), 2)).birth_date.year == 1900


def test_repr_and_error_never_show_the_number():
    number = build_id_number("140431", date(1990, 1, 1), 123)
    assert number not in repr(validate(number))
    assert number[6:14] not in repr(validate(number))
    broken = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(InvalidIdNumber) as info:
        validate(broken)
    assert broken not in str(info.value)
    assert str(info.value) == info.value.message_zh
    assert info.value.reason_code == REASON_CHECKSUM
    assert "校验码" in info.value.message_zh


# ---- ages --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(1966, 11, 29), date(2026, 11, 29), 60),
        (date(1966, 11, 30), date(2026, 11, 29), 59),
        (date(2010, 6, 1), date(2026, 5, 31), 15),
        (date(2010, 6, 1), date(2026, 6, 1), 16),
        (date(1964, 2, 29), date(2029, 2, 28), 64),  # born on a leap day: of age on 1 March
        (date(1964, 2, 29), date(2029, 3, 1), 65),
        (date(1964, 2, 29), date(2028, 2, 29), 64),
        (date(2026, 11, 29), date(2026, 11, 29), 0),
    ],
)
def test_age_on(birth, on, age):
    assert age_on(birth, on) == age


def test_age_before_birth_is_an_error():
    with pytest.raises(ValueError):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


def test_id_number_age_on():
    assert validate(STANDARD_EXAMPLE).age_on(TODAY) == 76


# ---- masking -----------------------------------------------------------------------------------


def test_mask_examples():
    assert mask_id_number("140431199001011234") == "1404**********1234"
    assert mask_id_number("14043119900101123x") == "1404**********123X"
    assert mask_name("李春英") == "李*英"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳春花") == "欧**花"
    assert mask_name("阿依古丽·买买提") == "阿******提"
    assert mask_name("王") == "*"
    assert mask_name("") == ""
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("0355-7654321") == "*******4321"
    assert mask_phone("12345") == "*****"


def test_validated_number_masks_itself():
    assert validate(STANDARD_EXAMPLE).masked == "1101**********002X"


# ---- properties --------------------------------------------------------------------------------

REGIONS = st.sampled_from(["140431", "140421", "140404", "110105", "330184", "650102", "810000"])
BIRTHS = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
SEQUENCES = st.integers(0, 999)


@given(REGIONS, BIRTHS, SEQUENCES)
def test_any_generated_number_validates(region, birth, sequence):
    number = build_id_number(region, birth, sequence)
    result = validate(number)
    assert result.number == number
    assert result.birth_date == birth
    assert result.sex == (MALE if sequence % 2 else FEMALE)
    assert result.region_known is True


@given(REGIONS, BIRTHS, SEQUENCES, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_character_change_is_rejected(region, birth, sequence, position, new):
    """GB 11643's MOD 11-2 check detects every single-character substitution."""
    number = build_id_number(region, birth, sequence)
    assume(number[position] != new)
    changed = number[:position] + new + number[position + 1 :]
    with pytest.raises(InvalidIdNumber):
        validate(changed)


@given(REGIONS, st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)), SEQUENCES)
def test_legacy_and_modern_forms_agree(region, birth, sequence):
    number = build_id_number(region, birth, sequence)
    assert validate(number[:6] + number[8:17]).number == number


@given(st.text(max_size=25))
def test_arbitrary_text_never_crashes(text):
    try:
        result = validate(text)
    except InvalidIdNumber as exc:
        assert exc.reason_code
    else:
        assert len(result.number) == 18


@given(st.text(alphabet="0123456789X", min_size=0, max_size=30))
def test_id_mask_reveals_at_most_eight_characters(text):
    masked = mask_id_number(text)
    assert len(masked) == len(text)
    visible = [ch for ch in masked if ch != "*"]
    assert len(visible) <= 8
    assert len(visible) <= len(text) // 2
    assert masked.count("*") >= len(text) - 8


@given(st.text(alphabet=st.characters(categories=("Lo",)), min_size=1, max_size=10))
def test_name_mask_reveals_at_most_two_characters(name):
    masked = mask_name(name)
    assert len(masked) == len(name)
    assert len([ch for ch in masked if ch != "*"]) <= min(2, len(name) - 1)


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobile_mask_hides_the_middle_four(phone):
    masked = mask_phone(phone)
    assert masked == phone[:3] + "****" + phone[-4:]


@given(st.text(alphabet="0123456789-+ ", max_size=20))
def test_phone_mask_never_reveals_more_than_seven_digits(phone):
    masked = mask_phone(phone)
    assert sum(ch.isdigit() for ch in masked) <= 7


def test_generated_numbers_reject_bad_parts():
    with pytest.raises(ValueError):
        build_id_number("1404", date(1990, 1, 1), 1)
    with pytest.raises(ValueError):
        build_id_number("140431", date(1990, 1, 1), 1000)
    assert validate(build_id_number("140431", TODAY - timedelta(days=1), 0)).sex == FEMALE
