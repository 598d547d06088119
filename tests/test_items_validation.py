"""Validation of keypad and picker input (pure): typed values or a Chinese message, never a crash."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.validation import (
    CODE_PATTERN,
    FieldInvalid,
    Rule,
    validate_all,
    validate_amount,
    validate_code,
    validate_date,
    validate_digits,
    validate_phone,
    validate_value,
)

TODAY = dt.date(2026, 11, 29)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits from an IME
        (" 138 1234 5678 ", "13812345678"),
        ("0355-7012345", "0355-7012345"),
        ("03557012345", "03557012345"),
    ],
)
def test_valid_phone_numbers_are_accepted(text, expected):
    assert validate_phone(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("1381234567", "手机号码应为11位"),
        ("12812345678", "不是有效的手机号码"),
        ("138123456789", "手机号码应为11位"),
        ("abc", "只能输入数字"),
        ("355-7012345", "带区号的固定电话"),
        ("+8613812345678", "只能输入数字"),
    ],
)
def test_invalid_phone_numbers_say_why_in_chinese(text, message):
    with pytest.raises(FieldInvalid) as caught:
        validate_phone(text, "phone", "联系电话")
    assert message in caught.value.message
    assert caught.value.field == "phone"
    assert text.strip() not in caught.value.message  # the value never echoes into a message


@given(st.text(max_size=30))
def test_phone_validation_never_crashes(text):
    try:
        value = validate_phone(text)
    except FieldInvalid as exc:
        assert exc.message
    else:
        assert value.replace("-", "").isdigit()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("20260105", dt.date(2026, 1, 5)),
        ("2026-1-5", dt.date(2026, 1, 5)),
        ("2026年1月5日", dt.date(2026, 1, 5)),
    ],
)
def test_dates_in_keypad_and_written_forms(text, expected):
    assert validate_date(text, "d", "日期", TODAY) == expected


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        ("20260230", {}, "不是有效的日期"),
        ("2026013", {}, "8位数字"),
        ("18991231", {}, "不是有效的日期"),
        ("20261130", {"latest_days": 0}, "不能晚于今天"),
        ("20261128", {"earliest_days": 0}, "不能早于今天"),
        ("20251127", {"earliest_days": -366}, "不能早于2025年11月28日"),
    ],
)
def test_bad_dates_are_refused_with_a_reason(text, kwargs, message):
    with pytest.raises(FieldInvalid) as caught:
        validate_date(text, "d", "日期", TODAY, **kwargs)
    assert message in caught.value.message


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_every_real_date_round_trips_through_the_keypad_form(day):
    assert validate_date(f"{day:%Y%m%d}", "d", "日期", TODAY) == day


@given(st.text(max_size=20))
def test_date_validation_never_crashes(text):
    try:
        validate_date(text, "d", "日期", TODAY, earliest_days=-10, latest_days=10)
    except FieldInvalid as exc:
        assert exc.message.startswith("“日期”")


def test_amounts_have_at_most_two_decimals_and_bounds():
    assert validate_amount("85.5", "a", "金额") == Decimal("85.5")
    assert validate_amount("1200元", "a", "金额", 1, 5000) == Decimal("1200")
    with pytest.raises(FieldInvalid, match="最多两位小数"):
        validate_amount("1.234", "a", "金额")
    with pytest.raises(FieldInvalid, match="不能大于5000元"):
        validate_amount("5000.01", "a", "金额", 0, 5000)
    with pytest.raises(FieldInvalid, match="不能小于1元"):
        validate_amount("0", "a", "金额", 1, None)
    with pytest.raises(FieldInvalid):
        validate_amount("-5", "a", "金额")


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False))
def test_any_two_decimal_amount_is_read_back_exactly(amount):
    assert validate_amount(str(amount), "a", "金额") == amount


def test_identifying_digits_keep_their_leading_zeros():
    assert validate_digits("00123456", "c", "证书编号", 4, 40) == "00123456"
    with pytest.raises(FieldInvalid, match="至少4位"):
        validate_digits("123", "c", "证书编号", 4, 40)
    with pytest.raises(FieldInvalid, match="只能输入数字"):
        validate_digits("12a4", "c", "证书编号", 4, 40)


def test_required_fields_ask_to_fill_or_choose_and_optional_ones_give_none():
    rules = [
        Rule("phone", "联系电话", "phone"),
        Rule("town", "乡镇", "picker", options=("沁河镇", "郭道镇")),
        Rule("note", "备注", "text", required=False),
        Rule("ok", "是否同意", "yes_no"),
    ]
    clean, errors = validate_all(rules, {"phone": " ", "note": "", "ok": None}, TODAY)
    assert errors == {
        "phone": "请填写“联系电话”",
        "town": "请选择“乡镇”",
        "ok": "请选择“是否同意”",
    }
    assert clean == {"note": None}


def test_pickers_accept_only_offered_options_and_multi_pickers_respect_the_limit():
    town = Rule("town", "乡镇", "picker", options=("沁河镇",))
    assert validate_value(town, "沁河镇", TODAY) == "沁河镇"
    with pytest.raises(FieldInvalid, match="请从列表中选择"):
        validate_value(town, "北京", TODAY)
    trades = Rule("t", "工种", "multi_picker", options=("电工", "焊工", "司机"), max_choices=2)
    assert validate_value(trades, ["电工", "电工", "司机"], TODAY) == ("电工", "司机")
    with pytest.raises(FieldInvalid, match="最多选择2项"):
        validate_value(trades, ["电工", "焊工", "司机"], TODAY)


def test_yes_no_and_numbers_and_text():
    assert validate_value(Rule("y", "是否", "yes_no"), "是", TODAY) is True
    assert validate_value(Rule("y", "是否", "yes_no"), False, TODAY) is False
    with pytest.raises(FieldInvalid):
        validate_value(Rule("y", "是否", "yes_no"), "也许", TODAY)
    rule = Rule("n", "人数", "keypad_number", min_value=Decimal(1), max_value=Decimal(500))
    assert validate_value(rule, "12", TODAY) == 12
    with pytest.raises(FieldInvalid, match="不能大于500"):
        validate_value(rule, "501", TODAY)
    with pytest.raises(FieldInvalid, match="只能输入整数"):
        validate_value(rule, "1.5", TODAY)
    text = Rule("x", "说明", "text", max_length=5)
    assert validate_value(text, "  帮忙搬家 ", TODAY) == "帮忙搬家"
    with pytest.raises(FieldInvalid, match="最多5个字"):
        validate_value(text, "一二三四五六", TODAY)
    with pytest.raises(FieldInvalid, match="无法识别的字符"):
        validate_value(text, "a\x00b", TODAY)


@given(st.one_of(st.none(), st.text(max_size=15), st.lists(st.text(max_size=5), max_size=4)))
def test_no_kind_crashes_on_arbitrary_input(raw):
    for kind in (
        "keypad_number",
        "phone",
        "amount",
        "date",
        "picker",
        "multi_picker",
        "yes_no",
        "text",
    ):
        rule = Rule("f", "字段", kind, required=False, options=("甲", "乙"), max_choices=2)
        try:
            validate_value(rule, raw, TODAY)
        except FieldInvalid as exc:
            assert exc.field == "f" and exc.message


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("s0000-14043100223", "S0000-14043100223"),  # letters upper-cased, the hyphen kept
        (" Y 2026 0001 ", "Y20260001"),  # blanks dropped
        ("ＳＹ１２３", "SY123"),  # full-width letters and digits
        ("证书123", "“证书编号”只能包含字母、数字和“-”"),
        ("AB_1", "“证书编号”只能包含字母、数字和“-”"),
        ("S12", "“证书编号”至少4位"),
    ],
)
def test_a_code_takes_letters_digits_and_hyphens_like_the_platform(raw, expected):
    try:
        value = validate_code(raw, "certificate_no", "证书编号", 4, 40)
    except FieldInvalid as exc:
        assert exc.message == expected
    else:
        assert value == expected and re.match(CODE_PATTERN, value)
