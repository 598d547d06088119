"""办结时限 as the catalogue says it, in the words a resident reads on screen and on paper.

附件2 gives each item either 即时办结 or N working days. What a resident is told depends on
where the clock starts (``basis``):

- ``immediate``      即时办结: finished on the spot — "即时办结（已办结）" once it is done;
- ``filed``          N working days from the filing day (kiosk items 10, 11, 22, 23):
                     the due date;
- ``on_acceptance``  a counter pre-application (预约柜台办理) the counter has not accepted yet:
                     "受理后N个工作日内办结" — no date, because none was promised;
- ``accepted``       the counter accepted it: the due date counted from the acceptance day,
                     "2026年12月10日（12月3日柜台受理起算）";
- ``none``           nothing to promise (refused, withdrawn).

The platform answers with the basis and dates (``due_basis``, ``due_date``, ``accepted_on``,
``time_limit_days``); :func:`deadline_of` reads such an answer, :func:`offline_deadline`
says the same for a submission still waiting in the kiosk's outbox. Pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kiosk.domain.workdays import DueDate, WorkingCalendar

Basis = Literal["immediate", "filed", "on_acceptance", "accepted", "none"]
BASES: tuple[str, ...] = ("immediate", "filed", "on_acceptance", "accepted", "none")
IMMEDIATE = "即时办结"
SAVED_DUE_REASON = "联网提交后以受理时间为准"
FINAL_STATUSES = frozenset({"rejected", "cancelled"})


@dataclass(frozen=True)
class Deadline:
    """One application's 办结时限; :meth:`label_zh` is what screens and receipts say."""

    basis: Basis
    working_days: int = 0
    due: DueDate | None = None
    accepted_on: dt.date | None = None
    completed: bool = False
    saved_offline: bool = False  # still in the kiosk's outbox: nothing is finished yet

    def label_zh(self) -> str:
        """The text after "办结时限：" ("" when there is nothing to promise)."""
        if self.basis == "immediate" or (self.basis == "accepted" and self.working_days == 0):
            if self.completed:
                return f"{IMMEDIATE}（已办结）"
            if self.saved_offline:
                return f"{IMMEDIATE}（联网提交后办结）"
            return IMMEDIATE
        if self.basis == "on_acceptance":
            if self.working_days == 0:
                return f"柜台受理后{IMMEDIATE}"
            return f"受理后{self.working_days}个工作日内办结"
        if self.due is None:
            return ""
        text = self.due.label_zh()
        if self.basis == "accepted" and self.accepted_on is not None:
            day = self.accepted_on
            text += f"（{day.month}月{day.day}日柜台受理起算）"
        return text


def deadline_of(answer: Mapping[str, Any], working_days: int | None = None) -> Deadline | None:
    """The deadline a platform receipt or 我的办件 entry states; None when it states none.

    Reads ``due_basis``, ``time_limit_days``, ``due_date``, ``due_estimated``, ``due_note``,
    ``accepted_on`` and ``status``. A platform that sends no ``due_basis`` (an older contract)
    gets the plain due date (*working_days*, from the kiosk's catalogue, fills a missing
    ``time_limit_days``). Never raises on odd values.
    """
    status = str(answer.get("status") or "")
    days = answer.get("time_limit_days", working_days)
    days = days if isinstance(days, int) and not isinstance(days, bool) and days >= 0 else 0
    due = _due(answer)
    basis = answer.get("due_basis")
    if basis not in BASES:
        return Deadline("filed", days, due) if due is not None else None
    if status in FINAL_STATUSES or basis == "none":
        return None
    return Deadline(
        basis=basis,
        working_days=days,
        due=due,
        accepted_on=_date(answer.get("accepted_on")),
        completed=status == "completed",
    )


def offline_deadline(
    working_days: int, *, counter: bool, today: dt.date, calendar: WorkingCalendar
) -> Deadline:
    """What a receipt says before the platform has the submission: counter items wait for
    the counter; 即时办结 items for delivery; others an estimated date from *today*."""
    if counter:
        return Deadline("on_acceptance", working_days)
    if working_days == 0:
        return Deadline("immediate", 0, saved_offline=True)
    due = calendar.due_date(today, working_days)
    estimate = DueDate(due.date, estimated=True, reason=due.reason or SAVED_DUE_REASON)
    return Deadline("filed", working_days, estimate, saved_offline=True)


def _due(answer: Mapping[str, Any]) -> DueDate | None:
    day = _date(answer.get("due_date"))
    if day is None:
        return None
    estimated = bool(answer.get("due_estimated"))
    return DueDate(day, estimated, str(answer.get("due_note") or "") if estimated else "")


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


__all__ = ["BASES", "Basis", "Deadline", "deadline_of", "offline_deadline"]
