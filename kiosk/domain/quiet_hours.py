"""Quiet hours: a daily span of local time (``"22:00-07:00"``) in which the kiosk speaks only when
asked. The span may cross midnight; the start is inside it, the end is not. Pure."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_SPAN = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


class QuietHoursError(ValueError):
    """Not a span ``HH:MM-HH:MM`` of two different times of day."""


@dataclass(frozen=True)
class QuietHours:
    start: dt.time
    end: dt.time

    def contains(self, moment: dt.time) -> bool:
        """True when *moment* (a local time of day) lies in the span."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_quiet_hours(text: str) -> QuietHours | None:
    """``"22:00-07:00"`` → :class:`QuietHours`; ``""`` → None (no quiet hours).

    Raises :class:`QuietHoursError` for anything else (a bad hour, equal start and end)."""
    if not text.strip():
        return None
    match = _SPAN.fullmatch(text)
    if match is None:
        raise QuietHoursError(f"{text!r} is not HH:MM-HH:MM (e.g. 22:00-07:00)")
    h1, m1, h2, m2 = (int(group) for group in match.groups())
    try:
        start, end = dt.time(h1, m1), dt.time(h2, m2)
    except ValueError:
        raise QuietHoursError(f"{text!r} is not a time of day (00:00 to 23:59)") from None
    if start == end:
        raise QuietHoursError(f"{text!r} starts and ends at the same time")
    return QuietHours(start, end)
