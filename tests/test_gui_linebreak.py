"""Chinese line breaking (pure): fits the width, keeps numbers whole, obeys kinsoku."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kiosk.screens.linebreak import NO_LINE_END, NO_LINE_START, _units, break_lines


def width(text: str) -> float:
    """A monospace-like metric: CJK characters 2 units, ASCII 1."""
    return sum(1 if ord(c) < 128 else 2 for c in text)


def test_numbers_are_not_split_and_lines_fit():
    text = "距60周岁规定领取年龄不足15年的；补充险参保人员"
    lines = break_lines(text, 20, width)
    assert all(width(line) <= 20 for line in lines)
    assert "".join(lines) == text
    assert any("15年" in line for line in lines)
    assert any("60周岁" in line for line in lines)


def test_closing_punctuation_never_starts_a_line():
    # Exactly the case Kivy gets wrong: the comma would fall at the start of line 2.
    lines = break_lines("办理业务时请按提示，插卡", 18, width)
    assert lines == ["办理业务时请按提", "示，插卡"]


def test_opening_punctuation_never_ends_a_line():
    lines = break_lines("甲乙丙丁（法定节假日除外）", 10, width)
    assert all(not line.endswith("（") for line in lines)
    assert "".join(lines) == "甲乙丙丁（法定节假日除外）"


def test_explicit_newlines_are_kept_and_spaces_at_breaks_dropped():
    lines = break_lines("周一至周五 上午 8:30-12:00\n下午", 16, width)
    assert lines == ["周一至周五 上午", "8:30-12:00", "下午"]


def test_a_unit_wider_than_the_line_is_cut_by_characters():
    lines = break_lines("1234567890", 4, width)
    assert lines == ["1234", "5678", "90"]


def test_zero_width_returns_paragraphs_unwrapped():
    assert break_lines("甲乙\n丙", 0, width) == ["甲乙", "丙"]


cjk_text = st.text(
    alphabet=st.sampled_from(list("社保卡办理年月日人员0123456789ab:- ，。、（）《》")),
    max_size=120,
)


@given(text=cjk_text, max_width=st.integers(min_value=2, max_value=60))
def test_properties_for_any_text(text, max_width):
    lines = break_lines(text, max_width, width)
    units_fit = all(width(unit.strip(" ")) <= max_width for unit in _units(text.replace("\n", "")))
    # Nothing is lost but spaces at breaks.
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for index, line in enumerate(lines):
        # Fits, unless a single character is wider than the line.
        assert width(line) <= max_width or len(line) == 1
        # Kinsoku holds whenever no glued unit is wider than a line (else cutting is forced).
        if units_fit and index and line:
            assert line[0] not in NO_LINE_START, lines
        if units_fit and index < len(lines) - 1 and line:
            assert line[-1] not in NO_LINE_END, lines


def greedy_reference(text: str, max_width: float) -> list[str]:
    """The plain greedy wrap: every growing line measured whole (what break_lines must equal)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        paragraph_lines: list[str] = []
        for unit in _units(paragraph):
            if width(current + unit) <= max_width:
                current += unit
                continue
            if current.strip():
                paragraph_lines.append(current.rstrip(" "))
            unit = unit.lstrip(" ")
            while unit and width(unit) > max_width:
                cut = 1
                while cut < len(unit) and width(unit[: cut + 1]) <= max_width:
                    cut += 1
                paragraph_lines.append(unit[:cut])
                unit = unit[cut:]
            current = unit
        if current or not paragraph_lines:
            paragraph_lines.append(current.rstrip(" "))
        lines.extend(paragraph_lines)
    return lines


@given(text=cjk_text, max_width=st.integers(min_value=2, max_value=60))
def test_same_breaks_as_measuring_every_prefix(text, max_width):
    assert break_lines(text, max_width, width) == greedy_reference(text, max_width)


def test_only_lines_near_their_end_are_measured_whole():
    paragraph = ("按拼音字母再点上面出现的字最多四十字不会拼音可点取消再点请工作人员帮忙" * 11)[
        :360
    ]
    measured: list[str] = []

    def counting(text: str) -> float:
        measured.append(text)
        return width(text)

    lines = break_lines(paragraph, 60, counting)
    assert len(lines) == 12 and all(len(line) == 30 for line in lines)  # 360 characters
    whole_lines = [text for text in measured if len(text) > 1]
    # A line is measured whole only within 4 % of its end: at 29 and 30 characters, and at
    # the 31 that do not fit (but the last line). Measuring every prefix took 360.
    assert len(whole_lines) == 11 * 3 + 2
