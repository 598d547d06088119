"""附件5 routing: who answers a problem report, how it escalates, and when an answer is overdue.

- 系统性问题 and 功能性问题 go straight to the province task force (省工作专班).
- 业务指导性问题 go to the county 人社部门; what the county cannot solve escalates to the city
  (市人社部门), and from there to the province task force, which is the last level.
- Device faults raised by kiosks are not in 附件5; they go to the county 人社部门, which manages the
  service points and their vendors, and escalate the same way.

Response times are not set by the seed: the working days each level has to answer are local
rules with today's values as defaults (county 3, city 5, province 10), set per deployment
(``ServerSettings.answer_working_days``, ``kiosk backend serve --answer-days``) and published with
the 责任清单. An answer itself carries its own deadline (反馈时限) for the promised result.

Within a level, a 问题反映 about an item goes to the desk designated for that item's business
line (附件5: 县人社部门根据业务分类由指定业务骨干反馈): a desk of exactly that line first, else a
desk of every line (business_line ""), else any desk of the level, so nothing is left unheld.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.domain.workdays import DueDate, WorkingCalendar, due_date


class Level(enum.StrEnum):
    COUNTY = "county"  # 县人社部门
    CITY = "city"  # 市人社部门
    PROVINCE = "province"  # 省工作专班


LEVEL_LABELS = {
    Level.COUNTY: "县人社部门",
    Level.CITY: "市人社部门",
    Level.PROVINCE: "省工作专班",
}

# Working days a level has to answer a ticket assigned to it: the defaults of a local rule.
ANSWER_WORKING_DAYS = {Level.COUNTY: 3, Level.CITY: 5, Level.PROVINCE: 10}


def answer_days_from(text: str) -> dict[Level, int]:
    """``"county=3,city=5,province=10"`` (any subset; the rest keep their default) → days per
    level. Raises ValueError naming the part that is wrong."""
    days = dict(ANSWER_WORKING_DAYS)
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        try:
            level, number = Level(name.strip()), int(value)
        except ValueError:
            raise ValueError(f"expected county=N, city=N or province=N, got {part!r}") from None
        if not 1 <= number <= 60:
            raise ValueError(f"{part!r}: between 1 and 60 working days")
        days[level] = number
    return days


_FIRST_LEVEL = {
    "system": Level.PROVINCE,
    "functional": Level.PROVINCE,
    "guidance": Level.COUNTY,
    "device": Level.COUNTY,
}
_NEXT_LEVEL = {Level.COUNTY: Level.CITY, Level.CITY: Level.PROVINCE}


class CannotEscalate(ValueError):
    """The ticket already sits with the province task force, the last level."""


def first_level(category: str) -> Level:
    """The level a new ticket of *category* is assigned to (KeyError for an unknown category)."""
    return _FIRST_LEVEL[category]


def next_level(level: Level) -> Level:
    try:
        return _NEXT_LEVEL[level]
    except KeyError:
        raise CannotEscalate(f"{LEVEL_LABELS[level]}已是最高一级，不能再上报") from None


# --- ledger states, deadlines and overdue flags (pure; the ledger module stores them) -----------


class TicketState(enum.StrEnum):
    SUBMITTED = "submitted"  # 已提交 (recorded, not yet routed)
    ASSIGNED = "assigned"  # 已分派 to the first level
    ESCALATED = "escalated"  # 已上报 to the next level, which now holds it
    ANSWERED = "answered"  # 已答复: result + 反馈时限 given
    CLOSED = "closed"  # 已关闭 (solved, or the device recovered)


STATE_LABELS = {
    TicketState.SUBMITTED: "已提交",
    TicketState.ASSIGNED: "已分派",
    TicketState.ESCALATED: "已上报上级",
    TicketState.ANSWERED: "已答复",
    TicketState.CLOSED: "已关闭",
}

# States in which the holding level still owes an answer.
AWAITING_ANSWER = frozenset({TicketState.SUBMITTED, TicketState.ASSIGNED, TicketState.ESCALATED})
OPEN_STATES = AWAITING_ANSWER | {TicketState.ANSWERED}


class TransitionRefused(ValueError):
    """The action does not apply to a ticket in its state (message in Chinese)."""


def check_can_answer(state: TicketState) -> None:
    """An open ticket can be answered (again: a revised answer replaces the last one)."""
    if state not in OPEN_STATES:
        raise TransitionRefused("工单已关闭，不能再答复")


def check_can_escalate(state: TicketState, level: Level) -> Level:
    """The level an open ticket escalates to; CannotEscalate at the province, TransitionRefused
    for a closed ticket. An answered ticket may still escalate (the answer did not solve it)."""
    if state not in OPEN_STATES:
        raise TransitionRefused("工单已关闭，不能再上报")
    return next_level(level)


def answer_due(
    level: Level,
    assigned_on: dt.date,
    calendar: WorkingCalendar | None = None,
    days: Mapping[Level, int] | None = None,
) -> DueDate:
    """The date by which *level* must answer a ticket it received on *assigned_on* (working days
    per *days*, default :data:`ANSWER_WORKING_DAYS`, counted by
    :func:`kiosk.domain.workdays.due_date`)."""
    return due_date(assigned_on, (days or ANSWER_WORKING_DAYS)[level], calendar)


@dataclass(frozen=True)
class Overdue:
    """answer: the holding level is past its answer date; feedback: an answer was given but
    its 反馈时限 passed without the ticket being closed."""

    answer: bool
    feedback: bool

    @property
    def any(self) -> bool:
        return self.answer or self.feedback


def overdue(
    state: TicketState,
    answer_due_on: dt.date | None,
    feedback_deadline: dt.date | None,
    today: dt.date,
) -> Overdue:
    """Overdue flags of a ticket as of *today* (a deadline day itself is still on time)."""
    answer_late = state in AWAITING_ANSWER and answer_due_on is not None and today > answer_due_on
    feedback_late = (
        state is TicketState.ANSWERED
        and feedback_deadline is not None
        and today > feedback_deadline
    )
    return Overdue(answer_late, feedback_late)
