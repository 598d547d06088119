"""Pure helpers of the flow screens: keypad input, picker choices, row shaping, value text.

These import Kivy modules but open no window (no display needed).
"""

from __future__ import annotations

import os

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.items.model import FieldDef
from kiosk.domain.items.views import Cell, Row
from kiosk.screens.flow_base import (
    ROW_LINE_PX,
    ROW_PADDING_PX,
    ROW_TITLE_PX,
    LineFit,
    level_heights,
    message_of,
    row_data,
)
from kiosk.screens.form import value_text
from kiosk.screens.keypad import MAX_LENGTH, accept_key, display_text
from kiosk.screens.picker import toggle_choice
from kiosk.services.errors import BackendUnavailable
from kiosk.services.flows import FormField, IdentityRequired

KEYS = st.sampled_from(list("0123456789.") + ["back", "clear", "x", ""])
KINDS = st.sampled_from(["phone", "date", "amount", "keypad_number"])


@given(kind=KINDS, keys=st.lists(KEYS, max_size=40))
def test_keypad_text_stays_within_its_kind(kind, keys):
    text = ""
    for key in keys:
        text = accept_key(kind, text, key)
    assert len(text) <= MAX_LENGTH[kind]
    assert set(text) <= set("0123456789.")
    if kind != "amount":
        assert "." not in text
    else:
        assert text.count(".") <= 1 and not text.startswith(".")
        if "." in text:
            assert len(text.split(".")[1]) <= 2


def test_keypad_back_and_clear():
    assert accept_key("phone", "138", "back") == "13"
    assert accept_key("phone", "138", "clear") == ""
    assert accept_key("phone", "", "back") == ""


@pytest.mark.parametrize(
    ("kind", "digits", "shown"),
    [
        ("phone", "13812345678", "138 1234 5678"),
        ("phone", "1381", "138 1"),
        ("phone", "03557012345", "03557012345"),
        ("date", "202601", "2026年01月__日"),
        ("date", "", "____年__月__日"),
        ("amount", "12.5", "12.5"),
    ],
)
def test_keypad_reads_back_what_was_typed(kind, digits, shown):
    assert display_text(kind, digits) == shown


def test_picker_single_choice_replaces_and_multiple_stops_at_the_limit():
    assert toggle_choice(["电工"], "司机", 1) == (["司机"], "")
    chosen, message = toggle_choice(["电工", "司机"], "保洁", 2)
    assert chosen == ["电工", "司机"] and "最多选择 2 项" in message
    assert toggle_choice(["电工", "司机"], "电工", 2) == (["司机"], "")


@given(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=20), st.integers(1, 4))
def test_picker_never_exceeds_max_choices(taps, limit):
    chosen: list[str] = []
    for label in taps:
        chosen, _ = toggle_choice(chosen, label, limit)
        assert len(chosen) <= limit and len(set(chosen)) == len(chosen)


def test_row_data_shows_reasons_and_failures_and_grows_with_lines():
    plain = Row("2025-01", (Cell("金额", "100.00"),))
    failed = Row(
        "2025-02",
        (Cell("金额", "100.00"), Cell("状态", "发放失败")),
        failed=True,
        failure_reason="银行账户被冻结",
    )
    matched = Row("司机", (Cell("地点", "沁河镇"),), reasons=("工种相符", "地点相符"), ref=7)
    assert row_data(failed, 1, scale=1)["extra"] == "发放失败：银行账户被冻结"
    assert row_data(failed, 1, scale=1)["warn"] is True
    assert row_data(matched, 0, scale=1)["extra"] == "推荐理由：工种相符；地点相符"
    assert row_data(matched, 0, scale=1)["ref"] == 7
    assert row_data(plain, 0, scale=1)["height"] < row_data(failed, 0, scale=1)["height"]
    assert row_data(plain, 0, scale=0.5)["height"] == row_data(plain, 0, scale=1)["height"] / 2


def test_messages_of_errors_are_chinese_and_generic_for_bugs():
    assert message_of(BackendUnavailable()) == "网络暂时不通，请稍后再试"
    assert "身份" in message_of(IdentityRequired(1)) or "社保卡" in message_of(IdentityRequired(1))
    assert (
        message_of(RuntimeError("secret 140431197205200315"))
        == "操作没有成功，请稍后再试或到柜台办理"
    )


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        ("multi_picker", ["电工", "司机"], "电工、司机"),
        ("yes_no", True, "是"),
        ("yes_no", False, "否"),
        ("date", "20260105", "2026年1月5日"),
        ("phone", "13812345678", "138 1234 5678"),
        ("picker", "", ""),
        ("multi_picker", [], ""),
    ],
)
def test_field_values_read_back_in_chinese(kind, value, text):
    field = FormField(FieldDef(key="k", label="标签", kind=kind), (), None, True)
    assert value_text(field, value) == text


@pytest.mark.parametrize(
    ("status", "warn"),
    [("in_review", False), ("completed", False), ("rejected", True)],
)
def test_my_applications_flags_a_rejected_application_with_its_reason(status, warn):
    """不予受理 must not look like progress: the row is drawn as a warning, reason included."""
    from kiosk.domain.items.views import application_row
    from kiosk.screens.my_applications import application_data

    row = application_row(
        {
            "number": "BJ2026",
            "item_no": 22,
            "item_name": "技能提升补贴申领",
            "status": status,
            "status_label": {"rejected": "不予受理"}.get(status, "审核中"),
            "submitted_at": "2026-09-03T10:15:00+08:00",
            "result": "证书等级与职业不符" if status == "rejected" else "",
        }
    )
    data = application_data(row, 0, 1.0)
    assert data["warn"] is warn
    if warn:
        assert data["extra"] == "状态：不予受理（证书等级与职业不符）"


def test_my_applications_names_the_helper_masked_beside_an_agent_submission():
    from kiosk.domain.items.views import application_row
    from kiosk.screens.my_applications import application_data

    agent = {"name_masked": "李*", "id_number_masked": "1404**********1234", "relation": "child"}
    with_relation = application_row({"number": "BJ1", "agent": {**agent, "relation_label": "子女"}})
    bare = application_row({"number": "BJ2", "agent": {**agent, "relation_label": ""}})
    in_person = application_row({"number": "BJ3", "agent": None})

    assert "代办人：李*（子女）" in application_data(with_relation, 0, 1.0)["lines"]
    assert "代办人：李*" in application_data(bare, 0, 1.0)["lines"].splitlines()
    assert "代办人" not in application_data(in_person, 0, 1.0)["lines"]
    assert "1404" not in application_data(with_relation, 0, 1.0)["lines"]


def test_line_fit_pairs_values_that_fit_and_sizes_the_card_for_wrapped_lines():
    ten_px_a_character = LineFit(width=130, measure=lambda t: 10 * len(t), measure_bold=len)
    short = Row("司机", (Cell("地点", "城关"), Cell("人数", "2"), Cell("薪资", "3000-5000元")))
    # "地点：城关　　人数：2" is 11 characters = 110 px: it fits; the salary (130 px) does not.
    assert ten_px_a_character.pack(["地点：城关", "人数：2", "薪资：3000-5000元"], 2) == [
        "地点：城关　　人数：2",
        "薪资：3000-5000元",
    ]
    assert ten_px_a_character.pack(["地点：城关", "人数：2"], 1) == ["地点：城关", "人数：2"]
    long_value = Row("司机", (Cell("要求", "吃苦耐劳身体健康有驾驶证能适应倒班"),))
    wrapped = row_data(long_value, 0, scale=1, fit=ten_px_a_character)
    assert wrapped["lines"].split("\n") == ["要求：吃苦耐劳身体健康有驾", "驶证能适应倒班"]
    assert wrapped["height"] == ROW_TITLE_PX + 2 * ROW_LINE_PX + ROW_PADDING_PX
    paired = row_data(short, 0, scale=1, columns=2, fit=ten_px_a_character)
    assert paired["height"] == ROW_TITLE_PX + 2 * ROW_LINE_PX + ROW_PADDING_PX
    assert row_data(long_value, 0, scale=1)["lines"].count("\n") == 0  # no fit: one per value


def test_cards_side_by_side_share_the_taller_height():
    rows = [{"height": 100}, {"height": 180}, {"height": 120}]
    assert [r["height"] for r in level_heights([dict(r) for r in rows], 2)] == [180, 180, 120]
    assert [r["height"] for r in level_heights([dict(r) for r in rows], 1)] == [100, 180, 120]
