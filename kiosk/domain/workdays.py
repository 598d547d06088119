"""Working days (工作日) and the due date of an N-working-day item.

China's working days exclude statutory holidays and include make-up working days (调休上班, usually a
Saturday or Sunday). The schedule comes from the maintained ``chinesecalendar`` library, which
knows the years it was released with (1.11: 2004–2026) and raises ``NotImplementedError`` for any
other year. Each autumn the State Council publishes the next year's schedule; a site adds it as
DATA, a TOML file of ``[[year]]`` tables (see ``data/holidays_extra.toml`` for the format), without
a code change. A year given in TOML replaces the library's data for that year.

For a year known to neither, days are counted by weekends only (Monday–Friday work) and the result
is marked ``estimated`` with a Chinese reason to show, e.g. "2027年节假日安排尚未发布，按周末推算".

Counting rule for :func:`WorkingCalendar.due_date`: the day of filing is day 0 whatever it is;
day 1 is the first working day AFTER it; the due date is the N-th such day. N = 0 (即时办结)
gives the filing date itself. Pure apart from reading the TOML files given; thread-safe.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import chinese_calendar

from kiosk.domain.tomlfile import TomlFileError, load_toml_file

MAX_WORKING_DAYS = 1000  # far above any item's limit; bounds the loop on bad input


@dataclass(frozen=True)
class DueDate:
    """A due date; ``estimated`` when a year's holiday schedule was unknown (see ``reason``)."""

    date: date
    estimated: bool = False
    reason: str = ""

    def label_zh(self) -> str:
        """For screens and receipts: "2026年12月29日", or with "（预计：<reason>）" if estimated."""
        text = f"{self.date.year}年{self.date.month}月{self.date.day}日"
        return f"{text}（预计：{self.reason}）" if self.estimated else text


@dataclass(frozen=True)
class YearSchedule:
    """One year's statutory holidays and make-up working days, as published."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str = ""


class HolidayDataError(ValueError):
    """A holiday TOML file is unreadable or malformed; the message names file, year and field."""

    def __init__(self, path: str | Path, message: str, *, year: int | None = None, field: str = ""):
        self.path = str(path)
        self.year = year
        self.field = field
        where = self.path
        if year is not None:
            where += f": year {year}"
        if field:
            where += f": field {field!r}"
        super().__init__(f"{where}: {message}")


class WorkingCalendar:
    """Answers "is this a working day?" from chinesecalendar plus site-supplied year schedules."""

    def __init__(self, schedules: Mapping[int, YearSchedule] | None = None):
        self._schedules = dict(schedules or {})

    def extra_years(self) -> tuple[int, ...]:
        """Years supplied as data (TOML), sorted."""
        return tuple(sorted(self._schedules))

    def knows_year(self, year: int) -> bool:
        """True if the official schedule of ``year`` is known (library or data)."""
        return self.day_status(date(year, 1, 1))[1]

    def day_status(self, day: date) -> tuple[bool, bool]:
        """Return ``(is_working_day, schedule_known)`` for ``day``.

        When the year's schedule is unknown, the first value counts weekends only.
        """
        schedule = self._schedules.get(day.year)
        if schedule is not None:
            if day in schedule.workdays:
                return True, True
            if day in schedule.holidays:
                return False, True
            return day.weekday() < 5, True
        try:
            return bool(chinese_calendar.is_workday(day)), True
        except NotImplementedError:
            return day.weekday() < 5, False

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` is a working day (weekends-only guess for unknown years)."""
        return self.day_status(day)[0]

    def due_date(self, start: date, working_days: int) -> DueDate:
        """The date by which an item filed on ``start`` must be finished.

        Day 1 is the first working day after ``start``; ``working_days`` = 0 returns ``start``.
        Raises ``ValueError`` if ``working_days`` is negative or above ``MAX_WORKING_DAYS``.
        """
        if isinstance(working_days, bool) or not isinstance(working_days, int):
            raise ValueError("working_days must be an integer")
        if not 0 <= working_days <= MAX_WORKING_DAYS:
            raise ValueError(f"working_days must be 0..{MAX_WORKING_DAYS}")
        day = start
        counted = 0
        unknown_years: list[int] = []
        while counted < working_days:
            day += timedelta(days=1)
            working, known = self.day_status(day)
            if not known and day.year not in unknown_years:
                unknown_years.append(day.year)
            if working:
                counted += 1
        if not unknown_years:
            return DueDate(day)
        return DueDate(day, estimated=True, reason=self._estimate_reason(unknown_years))

    def _estimate_reason(self, years: list[int]) -> str:
        names = "、".join(f"{year}年" for year in years)
        # A year right after a known one is "not yet published"; an older gap is "not recorded".
        status = "尚未发布" if self.knows_year(years[0] - 1) else "未收录"
        return f"{names}节假日安排{status}，按周末推算"


def default_holidays_path() -> Path:
    """The packaged holiday data file (format reference; may hold no years)."""
    return Path(str(resources.files("kiosk.domain") / "data" / "holidays_extra.toml"))


def load_calendar(extra_path: str | Path | None = None) -> WorkingCalendar:
    """A calendar from the packaged holiday data plus an optional site file.

    ``extra_path`` (e.g. ``<data_dir>/holidays.toml``) is skipped when it does not exist; its
    years replace the packaged ones. Raises :class:`HolidayDataError` on a malformed file.
    """
    schedules = load_year_schedules(default_holidays_path())
    if extra_path is not None and Path(extra_path).exists():
        schedules.update(load_year_schedules(extra_path))
    return WorkingCalendar(schedules)


def load_year_schedules(path: str | Path) -> dict[int, YearSchedule]:
    """Read one holiday TOML file into ``{year: YearSchedule}``.

    Format: ``[[year]]`` tables with ``year`` (int), ``holidays`` and ``workdays`` (lists whose
    elements are TOML dates or ``[first, last]`` inclusive date ranges) and an optional
    ``source`` (the notice it was copied from). Raises :class:`HolidayDataError` naming file, year
    and field for: unreadable file, invalid TOML, unknown keys, wrong types, a date outside its
    year, a date listed as both holiday and workday, a make-up workday that is not a weekend, or
    a year given twice.
    """
    path = Path(path)
    try:
        document = load_toml_file(path)
    except TomlFileError as exc:
        raise HolidayDataError(path, str(exc)) from None
    unknown = set(document) - {"year"}
    if unknown:
        raise HolidayDataError(path, f"unknown top-level key(s): {', '.join(sorted(unknown))}")
    tables = document.get("year", [])
    if not isinstance(tables, list):
        raise HolidayDataError(path, "'year' must be [[year]] tables", field="year")
    schedules: dict[int, YearSchedule] = {}
    for table in tables:
        schedule = _parse_year(table, path)
        if schedule.year in schedules:
            raise HolidayDataError(path, "year given twice", year=schedule.year, field="year")
        schedules[schedule.year] = schedule
    return schedules


def _parse_year(table: Any, path: Path) -> YearSchedule:
    if not isinstance(table, dict):
        raise HolidayDataError(path, "[[year]] entry is not a table", field="year")
    year = table.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 9999:
        raise HolidayDataError(path, f"'year' must be a four-digit integer, got {year!r}")
    unknown = set(table) - {"year", "holidays", "workdays", "source"}
    if unknown:
        name = sorted(unknown)[0]
        raise HolidayDataError(path, "unknown key", year=year, field=name)
    source = table.get("source", "")
    if not isinstance(source, str):
        raise HolidayDataError(path, "must be text", year=year, field="source")
    holidays = _parse_dates(table.get("holidays"), path, year, "holidays")
    workdays = _parse_dates(table.get("workdays", []), path, year, "workdays")
    both = holidays & workdays
    if both:
        first = min(both)
        raise HolidayDataError(
            path, f"{first} is both holiday and workday", year=year, field="workdays"
        )
    for day in sorted(workdays):
        if day.weekday() < 5:
            raise HolidayDataError(
                path, f"{day} is a weekday, not a make-up workday", year=year, field="workdays"
            )
    return YearSchedule(year, holidays, workdays, source)


def _parse_dates(value: Any, path: Path, year: int, field: str) -> frozenset[date]:
    if value is None:
        raise HolidayDataError(path, "missing", year=year, field=field)
    if not isinstance(value, list):
        raise HolidayDataError(path, "must be a list of dates", year=year, field=field)
    days: set[date] = set()
    for element in value:
        days.update(_expand(element, path, year, field))
    for day in days:
        if day.year != year:
            raise HolidayDataError(path, f"{day} is not in {year}", year=year, field=field)
    return frozenset(days)


def _expand(element: Any, path: Path, year: int, field: str) -> Iterable[date]:
    if _is_date(element):
        return (element,)
    if isinstance(element, list) and len(element) == 2 and all(map(_is_date, element)):
        first, last = element
        if last < first:
            raise HolidayDataError(
                path, f"range {first}..{last} is reversed", year=year, field=field
            )
        return (first + timedelta(days=n) for n in range((last - first).days + 1))
    raise HolidayDataError(
        path, f"{element!r} is neither a date nor a [first, last] range", year=year, field=field
    )


def _is_date(value: Any) -> bool:
    # tomllib gives datetime for offset/local date-times, which are subclasses of date.
    return isinstance(value, date) and type(value) is date


@functools.lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """The calendar of the packaged data only, read once on first use (immutable, shareable)."""
    return load_calendar()


def due_date(start: date, working_days: int, calendar: WorkingCalendar | None = None) -> DueDate:
    """Due date of an item of ``working_days`` filed on ``start``; see ``WorkingCalendar``.

    Without ``calendar`` the packaged data is used; pass ``load_calendar(site_file)`` to include
    a site's ``holidays.toml``.
    """
    return (calendar or default_calendar()).due_date(start, working_days)


def is_working_day(day: date, calendar: WorkingCalendar | None = None) -> bool:
    """True if ``day`` is a working day (packaged data if no ``calendar``)."""
    return (calendar or default_calendar()).is_working_day(day)
