"""附件5 routing rules, escalation and deadlines (pure: kiosk_backend.ticket_routing)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.problems import ProblemCategory
from kiosk_backend.ticket_routing import (
    ANSWER_WORKING_DAYS,
    LEVEL_LABELS,
    CannotEscalate,
    Level,
    TicketState,
    TransitionRefused,
    answer_due,
    check_can_answer,
    check_can_escalate,
    first_level,
    next_level,
    overdue,
)


def test_first_levels_follow_attachment_5():
    assert first_level("system") is Level.PROVINCE
    assert first_level("functional") is Level.PROVINCE
    assert first_level("guidance") is Level.COUNTY
    assert first_level("device") is Level.COUNTY
    assert {first_level(c.value) for c in ProblemCategory} <= set(Level)
    with pytest.raises(KeyError):
        first_level("weather")


def test_escalation_goes_county_city_province_and_stops():
    assert next_level(Level.COUNTY) is Level.CITY
    assert next_level(Level.CITY) is Level.PROVINCE
    with pytest.raises(CannotEscalate, match="省工作专班已是最高一级"):
        next_level(Level.PROVINCE)


@given(st.sampled_from(list(ProblemCategory)))
def test_every_category_reaches_the_province_in_at_most_two_escalations(category):
    level, steps = first_level(category.value), 0
    while level is not Level.PROVINCE:
        level, steps = next_level(level), steps + 1
    assert steps <= 2


def test_closed_tickets_can_neither_be_answered_nor_escalated():
    with pytest.raises(TransitionRefused):
        check_can_answer(TicketState.CLOSED)
    with pytest.raises(TransitionRefused):
        check_can_escalate(TicketState.CLOSED, Level.COUNTY)
    assert check_can_escalate(TicketState.ANSWERED, Level.COUNTY) is Level.CITY
    check_can_answer(TicketState.ANSWERED)  # a revised answer is allowed


def test_answer_deadlines_count_working_days_over_national_day():
    """Filed Wednesday 2026-09-30: 1–7 Oct are holidays, Saturday 10 Oct is a make-up working
    day, so the county's 3 working days end on 10 Oct and the city's 5 on 13 Oct."""
    filed = dt.date(2026, 9, 30)
    assert answer_due(Level.COUNTY, filed).date == dt.date(2026, 10, 10)
    assert answer_due(Level.CITY, filed).date == dt.date(2026, 10, 13)
    assert not answer_due(Level.PROVINCE, filed).estimated
    assert ANSWER_WORKING_DAYS[Level.COUNTY] < ANSWER_WORKING_DAYS[Level.PROVINCE]
    assert set(LEVEL_LABELS) == set(Level)


def test_a_deadline_in_an_unpublished_year_is_marked_estimated():
    due = answer_due(Level.COUNTY, dt.date(2026, 12, 31))
    assert due.estimated and "2027" in due.reason


def test_overdue_flags():
    due = dt.date(2026, 10, 10)
    assert not overdue(TicketState.ASSIGNED, due, None, due).any  # the due day is on time
    assert overdue(TicketState.ASSIGNED, due, None, dt.date(2026, 10, 11)).answer
    assert overdue(TicketState.ESCALATED, due, None, dt.date(2026, 10, 11)).answer
    answered = overdue(TicketState.ANSWERED, due, dt.date(2026, 11, 1), dt.date(2026, 11, 2))
    assert (answered.answer, answered.feedback) == (False, True)


@given(
    st.sampled_from(list(TicketState)),
    st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2026, 12, 31)),
    st.one_of(st.none(), st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2026, 12, 31))),
    st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2026, 12, 31)),
)
def test_closed_is_never_overdue_and_flags_need_a_passed_date(state, due, feedback, today):
    flags = overdue(state, due, feedback, today)
    if state is TicketState.CLOSED:
        assert not flags.any
    if flags.answer:
        assert today > due
    if flags.feedback:
        assert feedback is not None and today > feedback
