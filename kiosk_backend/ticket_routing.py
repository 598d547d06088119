"""附件5 routing: who answers a problem report, how it escalates, and when an answer is overdue.

- 系统性问题 and 功能性问题 go straight to the province task force (省工作专班).
- 业务指导性问题 go to the county 人社部门; what the county cannot solve escalates to the city
  (市人社部门), and from there to the province task force, which is the last level.
- Device faults raised by kiosks are not in 附件5; they go to the county 人社部门, which manages the
  service points and their vendors, and escalate the same way.

Response times are not set by the seed; the defaults below (working days to give an answer) are the
county's to change. An answer itself carries its own deadline (反馈时限) for the promised result.
"""

from __future__ import annotations

import enum


class Level(enum.StrEnum):
    COUNTY = "county"  # 县人社部门
    CITY = "city"  # 市人社部门
    PROVINCE = "province"  # 省工作专班


LEVEL_LABELS = {
    Level.COUNTY: "县人社部门",
    Level.CITY: "市人社部门",
    Level.PROVINCE: "省工作专班",
}

# Working days a level has to answer a ticket assigned to it.
ANSWER_WORKING_DAYS = {Level.COUNTY: 3, Level.CITY: 5, Level.PROVINCE: 10}

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
