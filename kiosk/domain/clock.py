"""The service point's clock: every time and date a resident sees or takes home.

A kiosk whose operating system was left on UTC (common with vendor images) must still print
提交时间 in the county's time, and the date in a 受理编号 the platform made must agree with the
date on the same receipt. So nothing a resident reads comes from the OS's local time: it comes
from a :class:`ServiceClock` in the service point's zone (``[kiosk] timezone``, IANA name,
default ``Asia/Shanghai``), whatever ``TZ`` or ``/etc/localtime`` say. Zone data comes from
the OS or, where the OS has none, from the ``tzdata`` package (a dependency).

Pure: the only I/O is reading the zone data once. Thread-safe (immutable).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"


class UnknownZone(ValueError):
    """The zone name is not an IANA time zone this machine knows."""


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone *name*; raises :class:`UnknownZone` (message names it) otherwise."""
    if not name or name != name.strip() or name.startswith("/") or ".." in name:
        raise UnknownZone(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownZone(f"unknown time zone {name!r}") from None


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ServiceClock:
    """Now, today and any instant as the service point's wall clock shows them.

    *now_utc* is the source of the instant (a test passes a fixed one); the OS time zone is
    never consulted.
    """

    def __init__(
        self, zone: str | ZoneInfo = DEFAULT_ZONE, now_utc: Callable[[], dt.datetime] = utc_now
    ) -> None:
        self.zone = zone if isinstance(zone, ZoneInfo) else zone_of(zone)
        self._now_utc = now_utc

    @property
    def zone_name(self) -> str:
        return self.zone.key

    def now(self) -> dt.datetime:
        """The current instant, aware, in the service point's zone."""
        return self._now_utc().astimezone(self.zone)

    def today(self) -> dt.date:
        """The service point's calendar date now."""
        return self.now().date()

    def local(self, moment: dt.datetime) -> dt.datetime:
        """*moment* on the service point's wall clock. A naive *moment* is taken as UTC (what
        the platform and the kiosk's own stores hold), never as the OS's local time."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(self.zone)

    def from_timestamp(self, seconds: float) -> dt.datetime:
        """A Unix timestamp (``time.time()``) on the service point's wall clock."""
        return dt.datetime.fromtimestamp(seconds, self.zone)


def parse_instant(text: str, clock: ServiceClock) -> dt.datetime | None:
    """An ISO 8601 instant from the platform on *clock*'s wall clock; None if unparsable."""
    try:
        moment = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return clock.local(moment)


def minute_text(moment: dt.datetime) -> str:
    """ "2026年12月5日 02:31" (the moment's own wall clock; localise it first)."""
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


__all__ = [
    "DEFAULT_ZONE",
    "ServiceClock",
    "UnknownZone",
    "minute_text",
    "parse_instant",
    "utc_now",
    "zone_of",
]
