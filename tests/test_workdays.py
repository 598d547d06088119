"""Working days and due dates: statutory holidays, 调休 make-up days, and years not yet published."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.workdays import (
    DueDate,
    HolidayDataError,
    WorkingCalendar,
    default_holidays_path,
    due_date,
    is_working_day,
    load_calendar,
    load_year_schedules,
)

# The 2027 schedule as a site would add it. The dates are a TEST FIXTURE (the State Council had
# not published 2027 when this was written), shaped like a real notice.
SITE_2027 = """
[[year]]
year = 2027
source = "test fixture shaped like 国务院办公厅关于2027年部分节假日安排的通知"
holidays = [[2027-01-01, 2027-01-03], [2027-02-06, 2027-02-12]]
workdays = [2027-02-14]
"""


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 10, 1), False),  # 国庆
        (date(2025, 10, 8), False),
        (date(2025, 9, 28), True),  # Sunday, 调休上班
        (date(2025, 10, 11), True),  # Saturday, 调休上班
        (date(2025, 10, 9), True),
        (date(2026, 2, 14), True),  # Saturday before 春节, 调休上班
        (date(2026, 2, 16), False),  # 春节
        (date(2026, 2, 23), False),
        (date(2026, 2, 28), True),  # Saturday, 调休上班
        (date(2026, 1, 4), True),  # Sunday after 元旦, 调休上班
        (date(2026, 11, 28), False),  # ordinary Saturday
        (date(2026, 11, 30), True),  # ordinary Monday
    ],
)
def test_is_working_day_2025_2026(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # 2025 国庆+中秋 Oct 1-8; 9-28 and 10-11 are make-up working days.
        (date(2025, 9, 26), 2, date(2025, 9, 29)),  # Fri → Sun 9-28 counts, then Mon 9-29
        (date(2025, 9, 30), 5, date(2025, 10, 14)),  # 9, 10, 11(Sat), 13, 14
        (date(2025, 9, 30), 1, date(2025, 10, 9)),
        # 2026 春节 Feb 15-23; 2-14 and 2-28 are make-up working days.
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 13), 5, date(2026, 2, 27)),  # 14, 24, 25, 26, 27
        (date(2026, 2, 13), 6, date(2026, 2, 28)),
        # 2026 国庆 Oct 1-7; 9-20 and 10-10 are make-up working days.
        (date(2026, 9, 30), 10, date(2026, 10, 20)),  # 8, 9, 10(Sat), 12..16, 19, 20
        (date(2026, 12, 15), 10, date(2026, 12, 29)),
    ],
)
def test_due_dates_around_holidays(start, days, due):
    assert due_date(start, days) == DueDate(due, estimated=False, reason="")


def test_zero_days_is_the_filing_date_even_on_a_holiday():
    assert due_date(date(2026, 10, 3), 0) == DueDate(date(2026, 10, 3))


def test_filing_on_a_holiday_counts_from_the_next_working_day():
    assert due_date(date(2026, 10, 3), 1).date == date(2026, 10, 8)


# The first year the installed chinesecalendar does not know (2027 for 1.11); tests of the
# estimated path use it so that a library upgrade does not turn them into false failures.
FIRST_UNPUBLISHED = next(y for y in range(2026, 2200) if not WorkingCalendar().knows_year(y))


def test_mid_december_2026_into_2027():
    result = due_date(date(2026, 12, 18), 10)  # Fri; 9 working days left in 2026
    if FIRST_UNPUBLISHED == 2027:
        assert result.date == date(2027, 1, 1)  # weekends-only guess: 1 Jan is a Friday
        assert result.estimated is True
        assert result.reason == "2027年节假日安排尚未发布，按周末推算"
        assert result.label_zh() == "2027年1月1日（预计：2027年节假日安排尚未发布，按周末推算）"
    else:  # a newer chinesecalendar knows 2027: 1 Jan is 元旦 and the date is exact
        assert result.estimated is False
        assert result.date > date(2027, 1, 1)
    assert due_date(date(2026, 12, 15), 10).label_zh() == "2026年12月29日"


def test_first_unpublished_year_is_estimated_with_weekend_counting():
    year = FIRST_UNPUBLISHED
    start = date(year, 3, 1)
    while start.weekday() != 4:  # a Friday
        start += timedelta(days=1)
    result = due_date(start, 5)
    assert result == DueDate(
        start + timedelta(days=7), True, f"{year}年节假日安排尚未发布，按周末推算"
    )
    assert is_working_day(start + timedelta(days=1)) is False  # Saturday
    assert is_working_day(date(year, 1, 1)) is (date(year, 1, 1).weekday() < 5)


def test_adding_2027_as_data_makes_the_due_date_exact(tmp_path):
    """GIVEN a site holidays.toml for 2027 WHEN the same item is filed THEN the date is exact."""
    site_file = tmp_path / "holidays.toml"
    site_file.write_text(SITE_2027, encoding="utf-8")
    calendar = load_calendar(site_file)
    assert calendar.extra_years() == (2027,)
    result = due_date(date(2026, 12, 18), 10, calendar)
    assert result == DueDate(date(2027, 1, 4), estimated=False, reason="")
    assert calendar.due_date(date(2027, 2, 5), 1).date == date(2027, 2, 14)  # 调休 Sunday
    assert calendar.is_working_day(date(2027, 2, 8)) is False
    assert calendar.knows_year(2027) and not calendar.knows_year(2199)


def test_missing_site_file_is_ignored(tmp_path):
    calendar = load_calendar(tmp_path / "absent.toml")
    assert calendar.extra_years() == ()
    assert calendar.due_date(date(2026, 12, 18), 10).estimated


def test_site_data_replaces_the_library_for_its_year(tmp_path):
    site_file = tmp_path / "holidays.toml"
    site_file.write_text("[[year]]\nyear = 2026\nholidays = [2026-11-30]\n", encoding="utf-8")
    calendar = load_calendar(site_file)
    assert calendar.is_working_day(date(2026, 11, 30)) is False
    assert calendar.is_working_day(date(2026, 10, 1)) is True  # the site's list is the whole year


def test_years_before_the_library_are_estimated_as_not_recorded():
    result = due_date(date(2003, 9, 30), 1)
    assert result.estimated
    assert result.reason == "2003年节假日安排未收录，按周末推算"


def test_crossing_two_unknown_years_names_both():
    year = FIRST_UNPUBLISHED
    result = due_date(date(year, 12, 30), 300)
    assert result.estimated
    assert result.reason.startswith(f"{year}年、{year + 1}年")


@pytest.mark.parametrize("days", [-1, 1001, True, 2.0, "5"])
def test_bad_working_days_are_rejected(days):
    with pytest.raises(ValueError):
        due_date(date(2026, 1, 5), days)


def test_packaged_holiday_file_is_valid_and_documents_the_format():
    text = default_holidays_path().read_text(encoding="utf-8")
    assert "[[year]]" in text
    load_year_schedules(default_holidays_path())  # must not raise


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("[[year]\n", r"invalid TOML"),
        ("years = []", r"unknown top-level"),
        ("year = 2027", r"'year' must be \[\[year\]\] tables"),
        ("[[year]]\nyear = '2027'\nholidays = []", r"four-digit integer"),
        ("[[year]]\nyear = 2027", r"year 2027: field 'holidays': missing"),
        ("[[year]]\nyear = 2027\nholidays = 2027-01-01", r"field 'holidays': must be a list"),
        (
            "[[year]]\nyear = 2027\nholidays = [2026-12-31]",
            r"field 'holidays': 2026-12-31 is not in",
        ),
        ("[[year]]\nyear = 2027\nholidays = ['2027-01-01']", r"neither a date nor"),
        (
            "[[year]]\nyear = 2027\nholidays = [2027-01-01T08:00:00]",
            r"neither a date nor",
        ),
        (
            "[[year]]\nyear = 2027\nholidays = [[2027-01-03, 2027-01-01]]",
            r"reversed",
        ),
        (
            "[[year]]\nyear = 2027\nholidays = []\nworkdays = [2027-01-04]",
            r"field 'workdays': 2027-01-04 is a weekday",
        ),
        (
            "[[year]]\nyear = 2027\nholidays = [2027-01-02]\nworkdays = [2027-01-02]",
            r"both holiday and workday",
        ),
        ("[[year]]\nyear = 2027\nholidays = []\nnote = 1", r"year 2027: field 'note': unknown key"),
        ("[[year]]\nyear = 2027\nholidays = []\nsource = 3", r"field 'source'"),
        (
            "[[year]]\nyear = 2027\nholidays = []\n[[year]]\nyear = 2027\nholidays = []",
            r"year given twice",
        ),
    ],
)
def test_malformed_holiday_files_name_file_year_and_field(tmp_path, text, pattern):
    path = tmp_path / "holidays.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HolidayDataError, match=pattern) as info:
        load_calendar(path)
    assert str(path) in str(info.value)


def test_unreadable_holiday_file(tmp_path):
    with pytest.raises(HolidayDataError, match="cannot read"):
        load_year_schedules(tmp_path / "absent.toml")
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('[[year]]\nyear = 2027\nsource = "国务院办公厅通知"\n'.encode("gbk"))
    with pytest.raises(HolidayDataError, match="not UTF-8") as info:
        load_year_schedules(gbk)
    assert str(gbk) in str(info.value)


# ---- properties --------------------------------------------------------------------------------

STARTS = st.dates(min_value=date(2004, 1, 1), max_value=date(2028, 12, 31))


@given(STARTS, st.integers(0, 40))
def test_due_date_is_the_nth_working_day_after_start(start, days):
    calendar = load_calendar()
    result = calendar.due_date(start, days)
    if days == 0:
        assert result.date == start
        return
    assert calendar.is_working_day(result.date)
    between = [start + timedelta(n) for n in range(1, (result.date - start).days + 1)]
    assert sum(calendar.is_working_day(d) for d in between) == days
    assert result.estimated == any(not calendar.knows_year(d.year) for d in between)
    if result.estimated:
        assert re.fullmatch(
            r"(\d{4}年、)*\d{4}年节假日安排(尚未发布|未收录)，按周末推算", result.reason
        )


@given(STARTS, st.integers(0, 30), st.integers(0, 30))
def test_more_days_never_give_an_earlier_date(start, a, b):
    calendar = WorkingCalendar()
    low, high = sorted((a, b))
    assert calendar.due_date(start, low).date <= calendar.due_date(start, high).date
